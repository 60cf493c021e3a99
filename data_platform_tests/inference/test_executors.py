"""Every executor returns exactly the vectorised predictions, and leaves no process behind."""

from __future__ import annotations

import numpy as np
import polars as pl
import psutil
import pytest

from data_platform.benchmarks.inference_workloads import RemoteModel
from data_platform.inference.executors import open_executor, run_inference, split_chunks
from data_platform.inference.model import TabularModel


def _workers_alive() -> list[psutil.Process]:
    """Child processes, except multiprocessing's resource tracker.

    The tracker is one helper per parent process that Python starts with the first spawn
    pool and keeps until the parent exits (by design); it is not a pool worker.
    """
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(child.cmdline())
    ]


def test_split_chunks_covers_every_row_in_order(unseen: pl.DataFrame) -> None:
    chunks = split_chunks(unseen, 1_000)
    assert [c.height for c in chunks] == [1_000, 1_000, 345]
    assert pl.concat(chunks).equals(unseen)
    with pytest.raises(ValueError, match="positive"):
        split_chunks(unseen, 0)


@pytest.mark.parametrize(("executor", "workers"), [("single", 1), ("thread", 3)])
def test_in_process_executors_match_vectorised(
    model: TabularModel, unseen: pl.DataFrame, executor: str, workers: int
) -> None:
    expected = model.predict(unseen)
    got = run_inference(model, unseen, executor, workers, chunk_size=500)
    assert got.shape == expected.shape
    assert (got == expected).all()
    proba = run_inference(model, unseen, executor, workers, 700, method="predict_proba")
    assert np.array_equal(proba, model.predict_proba(unseen))


def test_process_pool_matches_and_leaves_no_workers(
    model: TabularModel, unseen: pl.DataFrame
) -> None:
    before = {p.pid for p in _workers_alive()}
    expected = model.predict(unseen)
    got = run_inference(model, unseen, "process", 2, chunk_size=600)
    assert (got == expected).all()
    assert {p.pid for p in _workers_alive()} == before


def test_process_pool_is_shut_down_after_an_error(unseen: pl.DataFrame) -> None:
    before = {p.pid for p in _workers_alive()}
    started = []

    def fail_inside_the_pool() -> None:
        with open_executor("process", RemoteModel(0.0), 2) as pool:
            pool.warm_up()
            started.extend(_workers_alive())
            pool.map([unseen.drop("text")])  # the worker raises: no "text" column

    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        fail_inside_the_pool()
    assert len(started) >= len(before) + 2
    assert {p.pid for p in _workers_alive()} == before


def test_latency_workload_is_identical_on_threads(unseen: pl.DataFrame) -> None:
    remote = RemoteModel(latency_s=0.01)
    single = run_inference(remote, unseen, "single", chunk_size=400)
    threads = run_inference(remote, unseen, "thread", 6, chunk_size=400)
    assert (single == threads).all()
    assert (single == remote.predict(unseen)).all()


def test_unknown_executor_is_refused(model: TabularModel, unseen: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="executor must be one of"):
        run_inference(model, unseen, "gpu", 2)


def test_empty_frame(model: TabularModel, unseen: pl.DataFrame) -> None:
    assert run_inference(model, unseen.head(0), "thread", 2).shape == (0,)
