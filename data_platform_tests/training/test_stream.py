"""Streaming a tagged `transformed` table into training: sharding, order, resume, a loop."""

from __future__ import annotations

import dagster as dg
import pytest
import torch
from torch.utils.data import DataLoader

from data_platform.lakehouse import open_lakehouse
from data_platform.training import Position, Shard, TrainingStream, record_training_input
from data_platform.training.torch_dataset import LakeIterableDataset
from data_platform_tests.training.conftest import TABLE, TAG, TrainingLake

pytestmark = [pytest.mark.cluster, pytest.mark.integration]


def _stream(lake: TrainingLake, **options) -> TrainingStream:
    defaults = {"ref": TAG, "batch_size": 16, "buffer_rows": 40, "seed": 7}
    return TrainingStream.transformed(lake.settings, "reviews", **{**defaults, **options})


def _ids(batches) -> list[str]:
    return [i for batch in batches for i in batch["review_id"]]


def _arrow_ids(batches) -> list[str]:
    return [i for batch in batches for i in batch.column("review_id").to_pylist()]


def test_the_tag_pins_the_snapshot_and_its_files(training_lake):
    stream = _stream(training_lake)
    assert stream.snapshot_id == training_lake.tagged_snapshot
    assert len(stream.files) == 5  # one data file per upload at the tag; f.csv came later
    rows = sum(b.num_rows for b in stream.record_batches())
    assert rows == training_lake.tagged_rows
    lineage = stream.lineage()
    assert lineage["training_snapshot_id"] == training_lake.tagged_snapshot
    # #32: every upload the run read, from the rows of the tagged snapshot (not f.csv)
    uploads = lineage["training_uploads"]
    assert len(uploads) == 5
    assert sum(u["rows"] for u in uploads) == training_lake.tagged_rows
    assert all(u["etag"] for u in uploads)


def test_two_ranks_two_workers_cover_every_row_exactly_once(training_lake):
    expected = open_lakehouse(training_lake.settings).read(
        TABLE, snapshot_id=training_lake.tagged_snapshot
    )
    seen: list[str] = []
    for rank in (0, 1):
        dataset = LakeIterableDataset(_stream(training_lake), rank=rank, world_size=2)
        loader = DataLoader(dataset, batch_size=None, num_workers=2, multiprocessing_context="fork")
        ids = _ids(loader)
        assert ids, f"rank {rank} got no rows"
        seen += ids
    assert len(seen) == len(set(seen)) == training_lake.tagged_rows
    assert set(seen) == set(expected.data.column("review_id").to_pylist())


def test_the_same_seed_gives_the_same_order_and_epochs_differ(training_lake):
    def order(seed: int, epoch: int) -> list[str]:
        return _arrow_ids(_stream(training_lake, seed=seed).record_batches(Shard(1, 3), epoch))

    first = order(7, 0)
    assert first == order(7, 0)
    assert first != order(8, 0)
    assert first != order(7, 1)
    everything = _arrow_ids(_stream(training_lake).record_batches())
    assert sorted(everything) == sorted(_arrow_ids(_stream(training_lake, seed=3).record_batches()))
    assert everything != _arrow_ids(_stream(training_lake, seed=3).record_batches())
    unshuffled = _stream(training_lake, shuffle=False)
    plain = _arrow_ids(unshuffled.record_batches())
    assert plain == _arrow_ids(unshuffled.record_batches())
    assert plain != _arrow_ids(_stream(training_lake).record_batches())


def test_resume_mid_epoch_continues_exactly(training_lake):
    whole = LakeIterableDataset(_stream(training_lake), rank=0, world_size=1)
    whole.set_epoch(2)
    full = _ids(whole)
    interrupted = LakeIterableDataset(_stream(training_lake), rank=0, world_size=1)
    interrupted.set_epoch(2)
    head = []
    for i, batch in enumerate(interrupted):
        head += batch["review_id"]
        if i == 6:  # mid-block: 40-row buffer = 3 batches of 16, so block 2, 1 batch in
            break
    state = interrupted.state_dict()
    assert state["positions"][0]["emitted"] == 16
    resumed = LakeIterableDataset(_stream(training_lake), rank=0, world_size=1)
    resumed.load_state_dict(state)
    assert head + _ids(resumed) == full
    # the same at the Arrow level, from a position written down as plain data
    stream = _stream(training_lake)
    pairs = list(stream.batches(Shard(0, 2), epoch=0))
    position = Position.from_dict(pairs[3][1].as_dict())
    tail = _arrow_ids(stream.record_batches(Shard(0, 2), 0, position))
    assert tail == _arrow_ids(b for b, _ in pairs[4:])
    with pytest.raises(ValueError, match="seed"):
        LakeIterableDataset(_stream(training_lake, seed=99)).load_state_dict(state)


def test_a_torch_loop_trains_from_the_stream_and_records_the_snapshot(training_lake):
    stream = _stream(training_lake, columns=("price", "rating"), batch_size=32)

    @dg.asset
    def tiny_model(context) -> float:  # unannotated: Dagster refuses a string annotation
        torch.manual_seed(0)
        model = torch.nn.Linear(1, 1)
        optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
        dataset = LakeIterableDataset(stream)
        losses = []
        for epoch in range(4):
            dataset.set_epoch(epoch)
            for batch in DataLoader(dataset, batch_size=None):
                x = (batch["price"].float() / 100).unsqueeze(1)
                y = batch["rating"].float().unsqueeze(1)
                loss = torch.nn.functional.mse_loss(model(x), y)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
        record_training_input(context, stream)
        assert losses[-1] < losses[0] / 2, (losses[0], losses[-1])
        return losses[-1]

    result = dg.materialize([tiny_model])
    assert result.success
    materialization = result.asset_materializations_for_node("tiny_model")[0]
    recorded = materialization.metadata["training_snapshot_id"].value
    assert recorded == training_lake.tagged_snapshot
    assert materialization.metadata["training_ref"].value == TAG
