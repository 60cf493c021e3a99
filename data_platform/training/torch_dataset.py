"""The stream as a PyTorch `IterableDataset`: one shard per DataLoader worker of each rank.

Use it with `DataLoader(dataset, batch_size=None, num_workers=N)`: the dataset yields whole
batches (a dict of column -> tensor, or list for text), already shuffled and sharded.
The shard of a worker is `rank * N + worker` of `world_size * N`, taken from
`torch.distributed` when it is initialised (or given), and from `get_worker_info()`.
Like `DistributedSampler`, call `set_epoch` before each epoch to get a new order.

Shards get whole files, so their row counts differ: under DDP, wrap the loop in
`torch.distributed.algorithms.Join` (or stop at the shortest shard) as with any uneven input.

Resuming: `state_dict()` holds the position of every shard this process iterated (the
usual `num_workers=0` case). With DataLoader workers the positions live in the workers:
set `emit_positions=True`, and each batch carries `_shard` and `_position`; keep the last
of each shard and give them to `load_state_dict({"epoch": .., "positions": {shard: pos}})`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import torch
from torch.utils.data import IterableDataset, get_worker_info

from data_platform.training.plan import Shard
from data_platform.training.stream import Position, TrainingStream


def to_torch(batch: pa.RecordBatch) -> dict[str, Any]:
    """Numeric and boolean columns as tensors (no copy where Arrow allows), others as lists."""
    out: dict[str, Any] = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
            out[name] = torch.from_numpy(column.to_numpy(zero_copy_only=False, writable=True))
        else:
            out[name] = column.to_pylist()
    return out


class LakeIterableDataset(IterableDataset):
    """Shuffled, sharded, resumable batches of a table pinned to a snapshot."""

    def __init__(
        self,
        stream: TrainingStream,
        *,
        rank: int | None = None,
        world_size: int | None = None,
        emit_positions: bool = False,
    ) -> None:
        super().__init__()
        self.stream = stream
        self.rank = rank
        self.world_size = world_size
        self.emit_positions = emit_positions
        self.epoch = 0
        self._positions: dict[int, Position] = {}

    @property
    def snapshot_id(self) -> int:
        return self.stream.snapshot_id

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self._positions = {k: v for k, v in self._positions.items() if v.epoch == epoch}

    def _shard(self) -> Shard:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        rank = (
            self.rank
            if self.rank is not None
            else (torch.distributed.get_rank() if distributed else 0)
        )
        world = (
            self.world_size
            if self.world_size is not None
            else (torch.distributed.get_world_size() if distributed else 1)
        )
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        return Shard.of(rank, world, worker, workers)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        shard = self._shard()
        start = self._positions.get(shard.index)
        for batch, position in self.stream.batches(shard, self.epoch, start):
            self._positions[shard.index] = position
            out = to_torch(batch)
            if self.emit_positions:
                out["_shard"] = shard.index
                out["_position"] = position.as_dict()
            yield out

    def state_dict(self) -> dict[str, Any]:
        return {
            "snapshot_id": self.snapshot_id,
            "seed": self.stream.seed,
            "epoch": self.epoch,
            "positions": {k: v.as_dict() for k, v in self._positions.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue where `state` was taken (same snapshot, seed and sharding)."""
        for key in ("snapshot_id", "seed"):
            mine = self.snapshot_id if key == "snapshot_id" else self.stream.seed
            if key in state and state[key] != mine:
                raise ValueError(f"state was taken with {key}={state[key]}, this stream has {mine}")
        self.epoch = int(state["epoch"])
        self._positions = {
            int(k): Position.from_dict(v) for k, v in state.get("positions", {}).items()
        }
