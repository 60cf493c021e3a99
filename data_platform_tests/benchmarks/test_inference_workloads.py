"""The seed course's workload: its dummy model, and the same answer on forked and threaded pools."""

from __future__ import annotations

import time

import numpy as np

from data_platform.benchmarks.inference_workloads import SeedModel, seed_frame
from data_platform.inference.executors import FORK, run_inference


def test_seed_model_waits_once_per_batch_and_sums_rows() -> None:
    frame = seed_frame(5_000, seed=3)
    assert frame.shape == (5_000, 4)
    assert frame.dtype == np.float32
    model = SeedModel(wait_s=0.01, batch_rows=2_048)
    assert model.batches(5_000) == 3
    started = time.perf_counter()
    out = model.predict(frame)
    assert time.perf_counter() - started >= 3 * 0.01
    assert np.allclose(out, frame.sum(axis=1))


def test_seed_workload_is_identical_on_threads_and_forked_processes() -> None:
    frame = seed_frame(20_000, seed=4)
    model = SeedModel(wait_s=0.0005)
    expected = model.predict(frame)
    for executor in ("thread", FORK):
        got = run_inference(model, frame, executor, 4, chunk_size=5_000)
        assert np.array_equal(got, expected), executor
