"""`explain` draws its conclusions from the numbers: two measurement sets, two stories."""

from __future__ import annotations

from typing import Any

from data_platform.benchmarks.inference_bench import FLOOR
from data_platform.benchmarks.inference_report import explain, inference_table

# (executor, seconds, workers, cores busy, start-up seconds) per workload
PROCESSES_WIN = {
    "cpu": [
        (FLOOR, 0.50, 1, 1.0, 0.0),
        ("single", 4.00, 1, 1.0, 0.0),
        ("thread", 3.90, 2, 1.0, 0.01),
        ("process", 2.20, 2, 1.9, 1.50),
        ("ray", 2.60, 2, 1.8, 3.00),
    ],
    "latency": [
        (FLOOR, 0.06, 1, 0.1, 0.0),
        ("single", 1.00, 1, 0.1, 0.0),
        ("thread", 0.14, 8, 0.2, 0.01),
        ("process", 0.30, 8, 0.3, 1.20),
        ("ray", 0.40, 8, 0.3, 2.50),
    ],
}
THREADS_WIN = {
    "cpu": [
        (FLOOR, 5.00, 1, 1.0, 0.0),
        ("single", 4.00, 1, 1.0, 0.0),
        ("thread", 2.10, 2, 1.9, 0.01),
        ("process", 4.40, 2, 1.1, 2.00),
        ("ray", 5.00, 2, 1.0, 3.00),
    ],
    "latency": [
        (FLOOR, 1.50, 1, 0.1, 0.0),
        ("single", 1.00, 1, 0.1, 0.0),
        ("thread", 0.90, 8, 0.1, 0.01),
        ("process", 0.30, 8, 0.3, 1.20),
    ],
}
CHEAP_SHIPPING = {
    "model_pickle_bytes": 3 * 2**20,
    "model_pickle_s": 0.004,
    "model_unpickle_s": 0.003,
    "chunk_rows": 2000.0,
    "chunk_pickle_bytes": 200 * 2**10,
    "chunk_pickle_s": 0.0001,
    "chunk_unpickle_s": 0.0001,
    "chunk_predict_s": 0.050,
    "process_worker_start_s": 1.4,
}
COSTLY_SHIPPING = {**CHEAP_SHIPPING, "chunk_pickle_s": 0.012, "chunk_unpickle_s": 0.008}
CHUNKS = 20


def measured(cases: dict[str, list[tuple[str, float, int, float, float]]], load: float) -> Any:
    rows = [
        {
            "fp_cores": 2,
            "workload": workload,
            "executor": executor,
            "workers": workers,
            "chunks": 1 if executor == FLOOR else CHUNKS,
            "startup_s": startup,
            "time_s_median": seconds,
            "cores_busy": busy,
            "machine_load": load,
            "predictions_sha1": "same",
        }
        for workload, runs in cases.items()
        for executor, seconds, workers, busy, startup in runs
    ]
    return inference_table(rows)


def test_processes_win_and_the_floor_beats_them() -> None:
    text = explain(measured(PROCESSES_WIN, load=0.5), CHEAP_SHIPPING)
    cpu, latency = text.split("\n\n")
    assert "Fastest: Process, 1.82x single with 2 workers, 1.18x ahead of Ray." in cpu
    assert "Threads did not help (1.03x single, 1.0 cores busy): tokenising" in cpu
    assert "Separate processes used more than one core: Process 1.82x" in cpu
    assert "shipping data is cheap here (0.4% of the 50 ms" in cpu
    assert "The floor, one vectorised predict over all rows (0.50 s), beat every executor" in cpu
    assert "Caveat" not in cpu
    assert "Fastest: Thread, 7.14x single with 8 workers" in latency
    assert "Threads overlapped the waits: 7.14x single with 8 workers, of at most 8x" in latency
    assert "Separate processes were no faster than threads (Process 3.33x, Ray 2.50x)" in latency
    assert "The floor, one call for all rows (0.06 s), beat every executor" in latency
    assert "Floor (one call for all rows): 0.06 s." in latency
    assert "Process (fork)" not in text  # a variant: named only when it ran
    for wrong in ("Threads helped", "did not help: Process", "not cheap", "Faster than threads"):
        assert wrong not in text


def test_threads_win_processes_do_not_help_and_batching_loses() -> None:
    text = explain(measured(THREADS_WIN, load=3.0), COSTLY_SHIPPING)
    cpu, latency = text.split("\n\n")
    assert "Fastest: Thread, 1.90x single with 2 workers, 1.90x ahead of Single." in cpu
    assert "Threads helped (1.90x, 1.9 cores busy)" in cpu
    assert "Parallelism across processes did not help: Process 0.91x (1.1 cores busy)" in cpu
    assert "Ray 0.80x" in cpu
    assert "shipping data is not cheap here: 40% of the 50 ms" in cpu
    assert "for a pool that saves nothing per run" in cpu
    assert "Thread beat the floor, one vectorised predict over all rows (5.00 s), by 2.38x" in cpu
    assert "Caveat: the machine's load average reached 3.0 on 2 cores" in cpu
    assert "Fastest: Process, 3.33x single with 8 workers" in latency
    assert "Threads did not overlap the waits: 1.11x single with 8 workers" in latency
    assert "Faster than threads: Process (3.00x)." in latency
    assert "Process beat the floor, one call for all rows (1.50 s), by 5.00x" in latency
    assert "Ray: not run." in latency
    for wrong in ("Threads did not help", "processes used more than", "beat every executor"):
        assert wrong not in text


def test_no_executor_beating_single_is_said() -> None:
    slow = {
        "cpu": [(e, 4.4 if e == "thread" else s, w, b, u) for e, s, w, b, u in THREADS_WIN["cpu"]]
    }
    text = explain(measured(slow, load=0.5), CHEAP_SHIPPING)
    assert "No executor beat single: the closest, Thread, took 1.10x single's time." in text
    assert "Fastest" not in text.split("\n\n")[0]
