"""Streaming a snapshot into a training loop vs reading the same Parquet files with pyarrow.

One run prints a PASS/FAIL line for the target, every path side by side:

- stream: `LakeIterableDataset` over a `transformed` table pinned to a tag (planned with
  pyiceberg, read file by file with the next file read ahead in a thread, files permuted by
  seed, rows through the shuffle buffer), through a `DataLoader(batch_size=None)` into a
  trivial loop (sum one column per batch).
- direct: the same data files, with no shuffle and no Iceberg, batches of the same size
  converted to tensors the same way, into the same loop, read the two best bare ways:
  - read-ahead: each file read whole by `pyarrow.parquet.ParquetFile` (column chunks
    pre-buffered) in a thread while the previous one is consumed: the stream's own
    read-ahead, without the stream.
  - scanner: a `pyarrow.dataset` scanner over the files (pre-buffering, files and batches
    read ahead, decoding on Arrow's threads).
  The faster of the two (by median) is the baseline: a stream that only beats a reader
  with no read-ahead has not shown it is cheap.

Interleaved, after a warm-up, median of `--repeats`. Target: stream >= 0.8x the faster direct
path's rows/s. It runs its own embedded S3 server in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from torch.utils.data import DataLoader

from data_platform.contracts.columns import SOURCE_KEY
from data_platform.lakehouse import open_lakehouse
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.settings import Settings
from data_platform.storage.arrow import arrow_filesystem
from data_platform.synthetic import generate_reviews
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


def read_ahead(settings: Settings, files: list[str], columns: list[str], batch: int) -> int:
    """Each file read whole (pre-buffered) in a thread while the previous one is consumed."""
    filesystem = arrow_filesystem(settings)

    def read(path: str) -> pa.Table:
        with filesystem.open_input_file(path.removeprefix("s3://")) as handle:
            return pq.ParquetFile(handle, pre_buffer=True).read(columns=columns)

    def batches() -> Iterable[dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(read, files[0]) if files else None
            for i in range(len(files)):
                assert ahead is not None
                table = ahead.result()
                ahead = pool.submit(read, files[i + 1]) if i + 1 < len(files) else None
                for b in table.to_batches(max_chunksize=batch):
                    yield to_torch(b)

    return loop(batches(), columns[0])


def scanner(settings: Settings, files: list[str], columns: list[str], batch: int) -> int:
    """A pyarrow dataset scanner: pre-buffered reads, files and batches read ahead."""
    parquet = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=True)
    )
    dataset = ds.dataset(
        [path.removeprefix("s3://") for path in files],
        format=parquet,
        filesystem=arrow_filesystem(settings),
    )
    batches = dataset.to_batches(
        columns=columns, batch_size=batch, fragment_readahead=2, use_threads=True
    )
    return loop((to_torch(b) for b in batches), columns[0])


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
            paths: dict[str, Callable[[], int]] = {
                "stream": lambda: streamed(stream, columns[0]),
                "direct read-ahead": lambda: read_ahead(settings, files, columns, args.batch_size),
                "direct scanner": lambda: scanner(settings, files, columns, args.batch_size),
            }
            runs: dict[str, list[float]] = {name: [] for name in paths}
            rows = {name: run() for name, run in paths.items()}  # warm-up: connections, cache
            if len(set(rows.values())) != 1:
                raise RuntimeError(f"the paths read different row counts: {rows}")
            for _ in range(args.repeats):
                for name, run in paths.items():
                    runs[name].append(timed(run))

    rates = {name: statistics.median(r) for name, r in runs.items()}
    print(
        f"table {TABLE}@{TAG}: {rows['stream']:,} rows in {len(files)} files, columns {columns}, "
        f"batch {args.batch_size}, shuffle buffer {stream.block_rows} rows"
    )
    for name, rate in rates.items():
        print(f"{name}: {rate:,.0f} rows/s (median of {args.repeats})")
    baseline = max((n for n in rates if n != "stream"), key=rates.__getitem__)
    ratio = rates["stream"] / rates[baseline]
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"{verdict} training stream: {ratio:.2f}x {baseline} (the faster direct path) >= {TARGET}"
    )


if __name__ == "__main__":
    main()
