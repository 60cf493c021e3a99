"""A table pinned to one snapshot, streamed file by file as shuffled, sharded Arrow batches.

Nothing reads the whole table: each shard reads its files one at a time (pyiceberg's
`ArrowScan` over one planned file: the table's FileIO, its schema projection and any
delete files applied), the next file read ahead in a thread, and holds at most those two
files and one shuffle block in memory.

The shuffle is deterministic by seed: the file order is permuted by (seed, epoch), and the
shard's rows are cut into blocks of `buffer_rows` that are each permuted by
(seed, epoch, shard, block). A block is a fixed range of the shard's input rows whatever
the reader's batch boundaries, so a `Position` (epoch, block, where the block starts in
the input, rows of it already emitted) is enough to resume exactly: the resumed stream
re-reads at most one block and yields the same rows in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.table import FileScanTask

from data_platform.contracts.columns import SOURCE_KEY
from data_platform.lakehouse import open_lakehouse
from data_platform.lakehouse.uploads import uploads_in
from data_platform.settings import Settings
from data_platform.training.plan import Shard, epoch_order, plan_files, resolve, shard_files

SINGLE = Shard(0, 1)


@dataclass(frozen=True)
class Position:
    """Where a shard is in an epoch: the next rows it yields follow from this alone."""

    epoch: int
    block: int = 0  # blocks of the shard fully emitted
    file: int = 0  # the current block starts in the shard's `file`-th file...
    row: int = 0  # ...at this row of it
    emitted: int = 0  # rows of the current block already yielded

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        return cls(**{k: int(v) for k, v in data.items()})


class TrainingStream:
    """The rows of `table` at one snapshot, as shuffled Arrow record batches per shard."""

    def __init__(
        self,
        settings: Settings,
        table: str,
        *,
        ref: str | int | None = None,
        columns: tuple[str, ...] = ("*",),
        seed: int = 0,
        shuffle: bool = True,
        batch_size: int = 256,
        buffer_rows: int = 8192,
    ) -> None:
        if batch_size < 1 or buffer_rows < 1:
            raise ValueError("batch_size and buffer_rows must be positive")
        self.settings = settings
        self.table_name = table
        self.ref = ref
        self.columns = columns
        self.seed = seed
        self.shuffle = shuffle
        self.batch_size = batch_size
        # whole batches per block, so only a shard's last batch can be short
        blocks = math.ceil(buffer_rows / batch_size) if shuffle else 1
        self.block_rows = blocks * batch_size
        self.snapshot_id = resolve(open_lakehouse(settings), table, ref)
        self._reader: ArrowScan | None = None
        self._tasks: list[FileScanTask] | None = None

    @classmethod
    def transformed(cls, settings: Settings, dataset: str, **options: Any) -> TrainingStream:
        """The stream of a dataset's `transformed` table (the training-ready features)."""
        return cls(settings, f"transformed.{dataset}", **options)

    # the catalog and the plan do not cross processes: each DataLoader worker plans anew
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_reader": None, "_tasks": None}

    @property
    def tasks(self) -> list[FileScanTask]:
        if self._tasks is None:
            table = open_lakehouse(self.settings).load(self.table_name)
            if table is None:
                raise LookupError(f"table {self.table_name} does not exist")
            self._tasks = plan_files(table, self.snapshot_id, self.columns)
            projection = table.scan(snapshot_id=self.snapshot_id, selected_fields=self.columns)
            self._reader = ArrowScan(
                table.metadata, table.io, projection.projection(), AlwaysTrue()
            )
        return self._tasks

    @property
    def files(self) -> list[str]:
        """The data files of the snapshot, in the planned (sorted) order."""
        return [task.file.file_path for task in self.tasks]

    def lineage(self) -> dict[str, Any]:
        """What a training run read: the table, the ref asked for, the snapshot id resolved,
        and every upload in that snapshot (key, ETag, rows, when ingested) when the table is
        one of uploads."""
        record: dict[str, Any] = {
            "training_table": self.table_name,
            "training_ref": "" if self.ref is None else str(self.ref),
            "training_snapshot_id": self.snapshot_id,
            "training_seed": self.seed,
        }
        lake = open_lakehouse(self.settings)
        table = lake.load(self.table_name)
        if table is not None and SOURCE_KEY in table.schema().column_names:
            uploads = uploads_in(lake, self.table_name, self.snapshot_id)
            record["training_uploads"] = [u.as_json() for u in uploads]
        return record

    # -- reading -----------------------------------------------------------------------------
    def _read(self, index: int) -> list[pa.RecordBatch]:
        """One planned file's batches (pyiceberg reads a file task whole)."""
        task = self.tasks[index]  # plans, and opens the reader, in this process
        assert self._reader is not None
        return list(self._reader.to_record_batches([task]))

    def _files(self, files: list[int], first: int) -> Iterator[tuple[int, list[pa.RecordBatch]]]:
        """The shard's files from `first` on, each as its batches, the next one read ahead
        in a thread while this one is consumed (at most two files in memory)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dp-stream") as pool:
            ahead = pool.submit(self._read, files[first]) if first < len(files) else None
            for f in range(first, len(files)):
                assert ahead is not None
                batches = ahead.result()
                ahead = pool.submit(self._read, files[f + 1]) if f + 1 < len(files) else None
                yield f, batches

    def _blocks(
        self, files: list[int], start: Position
    ) -> Iterator[tuple[pa.RecordBatch, tuple[int, int]]]:
        """Blocks of exactly `block_rows` input rows (the last may be short), and where each
        next block starts (file, row)."""
        pending: list[pa.RecordBatch] = []
        have = 0
        for f, batches in self._files(files, start.file):
            skip = start.row if f == start.file else 0
            seen = 0
            for batch in batches:
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    seen += batch.num_rows
                    continue
                seen += skip
                batch = batch.slice(skip)
                skip = 0
                while batch.num_rows:
                    take = min(self.block_rows - have, batch.num_rows)
                    pending.append(batch.slice(0, take))
                    have += take
                    seen += take
                    batch = batch.slice(take)
                    if have == self.block_rows:
                        yield pa.concat_batches(pending), (f, seen)
                        pending, have = [], 0
        if have:
            yield pa.concat_batches(pending), (len(files), 0)

    def batches(
        self, shard: Shard = SINGLE, epoch: int = 0, start: Position | None = None
    ) -> Iterator[tuple[pa.RecordBatch, Position]]:
        """The shard's batches of an epoch, each with the position right after it."""
        position = start or Position(epoch)
        if position.epoch != epoch:
            raise ValueError(f"position is in epoch {position.epoch}, not {epoch}")
        order = epoch_order(len(self.tasks), self.seed, epoch, self.shuffle)
        files = shard_files(order, shard)
        block, begin, skip = position.block, (position.file, position.row), position.emitted
        for rows, end in self._blocks(files, position):
            if self.shuffle:
                rng = np.random.default_rng([self.seed, epoch, shard.index, block])
                rows = rows.take(pa.array(rng.permutation(rows.num_rows)))
            for offset in range(skip, rows.num_rows, self.batch_size):
                out = rows.slice(offset, self.batch_size)
                done = offset + out.num_rows
                if done == rows.num_rows:
                    yield out, Position(epoch, block + 1, *end)
                else:
                    yield out, Position(epoch, block, *begin, emitted=done)
            block, begin, skip = block + 1, end, 0

    def record_batches(
        self, shard: Shard = SINGLE, epoch: int = 0, start: Position | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The shard's Arrow record batches of an epoch (from `start` when resuming)."""
        for batch, _ in self.batches(shard, epoch, start):
            yield batch
