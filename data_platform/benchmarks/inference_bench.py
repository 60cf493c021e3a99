"""The executor benchmark: one call per case, each returning one `InferenceResult` row.

A case is workload x executor x workers x chunk size, with a stable id such as
``cpu|process|2w|10k`` (a valid Dagster partition key). The executor ``vectorised`` is the
floor: one predict call over the whole frame, no chunks, no pool. For pooled executors
`startup_s` (create the pool, start every worker) is measured apart from the timed runs,
which reuse the warm pool; an untimed warm-up pass comes first.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import psutil

from data_platform.benchmarks.cases import parse_size, size_label
from data_platform.benchmarks.inference_workloads import (
    DEFAULT_LATENCY_S,
    WORKLOADS,
    workload_predictor,
)
from data_platform.benchmarks.provenance import INFERENCE_PACKAGES, fingerprint
from data_platform.inference.executors import (
    DEFAULT_CHUNK_SIZE,
    EXECUTORS,
    FORK,
    open_executor,
    predict_chunked,
)

FLOOR = "vectorised"


@dataclass(frozen=True)
class InferenceCase:
    """One benchmark case; `executor` is one of `EXECUTORS` or ``vectorised`` (the floor)."""

    workload: str
    executor: str
    workers: int = 1
    chunk_size: int = DEFAULT_CHUNK_SIZE

    def __post_init__(self) -> None:
        if self.workload not in WORKLOADS:
            raise ValueError(f"workload must be one of {WORKLOADS}, got {self.workload!r}")
        if self.executor not in (*EXECUTORS, FORK, FLOOR):
            raise ValueError(f"executor must be one of {(*EXECUTORS, FLOOR)}: {self.executor!r}")
        if self.workers < 1 or (self.executor in ("single", FLOOR) and self.workers != 1):
            raise ValueError(f"{self.executor} takes workers=1, got {self.workers}")

    @property
    def case_id(self) -> str:
        return f"{self.workload}|{self.executor}|{self.workers}w|{size_label(self.chunk_size)}"


def parse_inference_case_id(case_id: str) -> InferenceCase:
    """The case of an id made by `InferenceCase.case_id`."""
    parts = case_id.split("|")
    if len(parts) != 4 or not parts[2].endswith("w"):
        raise ValueError(f"case id {case_id!r} is not workload|executor|<n>w|chunk")
    return InferenceCase(parts[0], parts[1], int(parts[2][:-1]), parse_size(parts[3]))


def inference_cases(
    cpu_workers: int = 2,
    latency_workers: int = 8,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    executors: tuple[str, ...] = EXECUTORS,
) -> list[InferenceCase]:
    """The floor and every executor, for both workloads (single always runs: the baseline)."""
    cases = []
    for workload, workers in (("cpu", cpu_workers), ("latency", latency_workers)):
        cases.append(InferenceCase(workload, FLOOR))
        cases.append(InferenceCase(workload, "single", 1, chunk_size))
        cases += [
            InferenceCase(workload, kind, workers, chunk_size)
            for kind in executors
            if kind != "single"
        ]
    return cases


@dataclass
class InferenceResult:
    """One result row; `to_dict()` is flat for a polars table."""

    case_id: str
    workload: str
    executor: str
    workers: int
    chunk_size: int
    rows: int
    chunks: int
    repeats: int
    startup_s: float
    time_s_min: float
    time_s_median: float
    rows_per_s: float
    cores_busy: float  # CPU seconds (driver + all its descendants) per wall second, median
    machine_load: float  # 1-minute load average after the runs: other jobs on the machine
    predictions_sha1: str
    times_s: list[float] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        return {**row.pop("fingerprint"), **row}


def predictions_digest(predictions: np.ndarray) -> str:
    """A hash of the predictions, equal exactly when every value and the order are equal."""
    if predictions.dtype.kind in "OUS":  # labels: independent of str width or object dtype
        payload = "\x1f".join(map(str, predictions.ravel())).encode()
    else:
        payload = np.ascontiguousarray(predictions).tobytes()
    shape = str(predictions.shape).encode()
    return hashlib.sha1(shape + payload).hexdigest()


def cpu_seconds() -> float:
    """CPU time of this process and every live descendant (pool workers, Ray's processes)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:  # exited meanwhile
            continue
    return total


def _timed_run(func: Any) -> tuple[float, float, Any]:
    cpu, start = cpu_seconds(), time.perf_counter()
    out = func()
    elapsed = time.perf_counter() - start
    return elapsed, (cpu_seconds() - cpu) / elapsed, out


def run_inference_case(
    case: InferenceCase | str,
    model: Any,
    frame: pl.DataFrame | np.ndarray,
    *,
    repeats: int = 3,
    latency_s: float = DEFAULT_LATENCY_S,
    ray_address: str | None = None,
    ray_temp_dir: Path | None = None,
) -> InferenceResult:
    """Time one case on `frame` and return its row.

    Args:
        case: an `InferenceCase` or its id, e.g. ``"cpu|process|2w|10k"``.
        model: the trained `ReviewModel` (the ``cpu`` workload's predictor).
        frame: rows to predict (the demo reviews or the transformed table; for the ``seed``
            workload a numpy array from `seed_frame`).
        repeats: timed runs after the warm-up.
        latency_s: the simulated call latency of the ``latency`` workload.
        ray_address, ray_temp_dir: see `run_inference`.

    Returns:
        Times (min, median), rows/s over the median, start-up and a predictions digest.
    """
    case = parse_inference_case_id(case) if isinstance(case, str) else case
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    predictor = workload_predictor(case.workload, model, latency_s)
    runs: list[tuple[float, float, Any]] = []
    startup_s = 0.0
    if case.executor == FLOOR:
        predictor.predict(frame[:100])  # warm-up
        runs = [_timed_run(lambda: predictor.predict(frame)) for _ in range(repeats)]
        chunks = 1
    else:
        start = time.perf_counter()
        with open_executor(
            case.executor,
            predictor,
            case.workers,
            ray_address=ray_address,
            ray_temp_dir=ray_temp_dir,
        ) as executor:
            executor.warm_up()
            startup_s = time.perf_counter() - start
            predict_chunked(executor, frame[: case.workers * case.chunk_size], case.chunk_size)
            runs = [
                _timed_run(lambda: predict_chunked(executor, frame, case.chunk_size))
                for _ in range(repeats)
            ]
        chunks = -(-len(frame) // case.chunk_size)
    times = [run[0] for run in runs]
    predictions = runs[-1][2]
    median = statistics.median(times)
    return InferenceResult(
        case_id=case.case_id,
        workload=case.workload,
        executor=case.executor,
        workers=case.workers,
        chunk_size=case.chunk_size if case.executor != FLOOR else len(frame),
        rows=len(frame),
        chunks=chunks,
        repeats=repeats,
        startup_s=startup_s,
        time_s_min=min(times),
        time_s_median=median,
        rows_per_s=len(frame) / median,
        cores_busy=statistics.median(run[1] for run in runs),
        machine_load=os.getloadavg()[0],
        predictions_sha1=predictions_digest(predictions),
        times_s=times,
        fingerprint=fingerprint(INFERENCE_PACKAGES),
    )
