"""Streaming a snapshot into a training loop vs reading the same Parquet files with pyarrow.

One run prints a PASS/FAIL line for the target, both paths side by side:

- stream: `LakeIterableDataset` over a `transformed` table pinned to a tag (planned with
  pyiceberg, read file by file, files permuted by seed, rows through the shuffle buffer),
  through a `DataLoader(batch_size=None)` into a trivial loop (sum one column per batch).
- direct: the same data files, read one after another with `pyarrow.parquet.ParquetFile`
  over the same S3 filesystem, batches of the same size converted to tensors the same way,
  into the same loop. No shuffle, no Iceberg.

Interleaved, after a warm-up, median of `--repeats`. Target: stream >= 0.8x direct rows/s.
It runs its own embedded S3 server in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from torch.utils.data import DataLoader

from data_platform.contracts.columns import SOURCE_KEY
from data_platform.core.generate import generate_reviews
from data_platform.lakehouse import open_lakehouse
from data_platform.settings import Settings
from data_platform.stack.temporary import temporary_lake
from data_platform.training import TrainingStream
from data_platform.training.torch_dataset import LakeIterableDataset, to_torch

TABLE = "transformed.bench"
TAG = "bench"
TARGET = 0.8


def build_table(settings: Settings, rows: int, files: int) -> None:
    """`files` partitions of the sample reviews, one data file each, tagged TAG."""
    lake = open_lakehouse(settings)
    per_file = max(1, rows // files)
    for i in range(files):
        frame = generate_reviews(per_file, seed=i, start_id=i * per_file).to_arrow()
        key = pa.array([f"part-{i:03d}.csv"] * frame.num_rows, pa.string())
        lake.overwrite_partition(
            TABLE, frame.append_column(SOURCE_KEY, key), column=SOURCE_KEY, value=key[0].as_py()
        )
    lake.tag(TAG, tables=[TABLE])


def loop(batches: Iterable[dict[str, Any]], column: str) -> int:
    """The trivial training loop: touch one tensor per batch, count rows."""
    rows = 0
    total = 0.0
    for batch in batches:
        total += float(batch[column].sum())
        rows += len(batch[column])
    return rows


def streamed(stream: TrainingStream, column: str) -> int:
    return loop(DataLoader(LakeIterableDataset(stream), batch_size=None), column)


def direct(settings: Settings, files: list[str], columns: list[str], batch: int) -> int:
    filesystem = settings.pyarrow_filesystem()

    def batches() -> Iterable[dict[str, Any]]:
        for path in files:
            with filesystem.open_input_file(path.removeprefix("s3://")) as handle:
                for b in pq.ParquetFile(handle).iter_batches(batch_size=batch, columns=columns):
                    yield to_torch(b)

    return loop(batches(), columns[0])


def timed(run: Callable[[], int]) -> float:
    start = time.perf_counter()
    rows = run()
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table")
    parser.add_argument("--files", type=int, default=8, help="data files (partitions)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    parser.add_argument("--batch-size", type=int, default=1024, help="rows per batch")
    parser.add_argument("--buffer-rows", type=int, default=16_384, help="shuffle buffer rows")
    parser.add_argument(
        "--columns",
        default="price,rating,helpful_votes,is_verified",
        help="columns the loop reads (comma-separated)",
    )
    args = parser.parse_args()
    columns = args.columns.split(",")

    with tempfile.TemporaryDirectory(prefix="bench-training-") as tmp:
        with temporary_lake(Path(tmp)) as settings:
            build_table(settings, args.rows, args.files)
            stream = TrainingStream(
                settings,
                TABLE,
                ref=TAG,
                columns=tuple(columns),
                seed=0,
                batch_size=args.batch_size,
                buffer_rows=args.buffer_rows,
            )
            files = stream.files
            runs: dict[str, list[float]] = {"stream": [], "direct": []}
            paths = {
                "stream": lambda: streamed(stream, columns[0]),
                "direct": lambda: direct(settings, files, columns, args.batch_size),
            }
            for name in paths:  # warm-up: connections, imports, page cache of the server
                paths[name]()
            for _ in range(args.repeats):
                for name, run in paths.items():
                    runs[name].append(timed(run))

    stream_rate = statistics.median(runs["stream"])
    direct_rate = statistics.median(runs["direct"])
    print(
        f"table {TABLE}@{TAG}: {args.rows} rows in {len(files)} files, columns {columns}, "
        f"batch {args.batch_size}, shuffle buffer {stream.block_rows} rows"
    )
    print(f"stream: {stream_rate:,.0f} rows/s (median of {args.repeats})")
    print(f"direct pyarrow: {direct_rate:,.0f} rows/s (median of {args.repeats})")
    ratio = stream_rate / direct_rate
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"{verdict} training stream: {ratio:.2f}x direct pyarrow >= {TARGET}")


if __name__ == "__main__":
    main()
