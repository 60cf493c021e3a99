"""What a training stream reads: a table's data files at one snapshot, and who reads which.

The plan is made once per process from the catalog (cheap: manifests only) and is the same
in every process for the same snapshot: files are sorted by path before anything else, so
every rank and every DataLoader worker agrees on the order, and the seeded permutation
of an epoch is then the same everywhere. Each shard (one DataLoader worker of one rank)
takes every `num_shards`-th file of that permutation: no file is read twice, none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyiceberg.table import FileScanTask, Table

from data_platform.lakehouse import Lakehouse


@dataclass(frozen=True)
class Shard:
    """One reader of the stream: `index` of `count` (rank * workers + worker of world * workers)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} is outside 0..{self.count - 1}")

    @classmethod
    def of(cls, rank: int, world_size: int, worker: int, workers: int) -> Shard:
        """The shard of DataLoader `worker` (of `workers`) on DDP `rank` (of `world_size`)."""
        return cls(rank * workers + worker, world_size * workers)


def resolve(lake: Lakehouse, table: str, ref: str | int | None) -> int:
    """The snapshot id a tag, branch or id names in `table` (None: the current one)."""
    snapshot_id = lake.resolve_snapshot(table, ref)
    if snapshot_id is None:
        raise LookupError(f"table {table} has no snapshot yet: nothing to stream")
    return snapshot_id


def plan_files(table: Table, snapshot_id: int, columns: tuple[str, ...]) -> list[FileScanTask]:
    """The scan's file tasks at `snapshot_id`, sorted by path (the same in every process)."""
    scan = table.scan(snapshot_id=snapshot_id, selected_fields=columns)
    return sorted(scan.plan_files(), key=lambda task: task.file.file_path)


def epoch_order(files: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    """The order the files are read in an epoch: a permutation by (seed, epoch), or as planned."""
    if not shuffle:
        return list(range(files))
    return [int(i) for i in np.random.default_rng([seed, epoch]).permutation(files)]


def shard_files(order: list[int], shard: Shard) -> list[int]:
    """The files of `order` that `shard` reads, in order: every `count`-th, from its index."""
    return order[shard.index :: shard.count]
