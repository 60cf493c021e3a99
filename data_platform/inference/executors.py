"""Chunked inference on four executors: single, thread, process, ray.

`run_inference` splits a frame into chunks, maps the predictor over them on the chosen
executor and concatenates the answers in input order, so every executor returns the same
array as one vectorised call. Executors are context managers that always shut down what
they started: process pools use the spawn start method (no forked copies of threads or
locks; ``process-fork``, for benchmarks, forks instead), get the predictor once per worker
(pool initializer), and are killed if a shutdown does not finish; Ray is shut down when this
executor started it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import polars as pl

from data_platform.inference.predictor import call_predictor

EXECUTORS = ("single", "thread", "process", "ray")
FORK = "process-fork"  # a process pool whose workers are forked: benchmarks compare both
DEFAULT_CHUNK_SIZE = 10_000
_WORKER_PREDICTOR: Any = None  # set in each process-pool worker by `_install`


def split_chunks(frame: Any, chunk_size: int) -> list[Any]:
    """Consecutive slices of at most `chunk_size` rows (zero-copy views), in order.

    `frame` is a polars DataFrame or a numpy array (the seed workload: forked workers must
    not touch polars, whose thread pool does not survive a fork).
    """
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    return [frame[offset : offset + chunk_size] for offset in range(0, len(frame), chunk_size)]


def _install(predictor: Any) -> None:
    global _WORKER_PREDICTOR
    _WORKER_PREDICTOR = predictor


def _call_installed(chunk: pl.DataFrame, method: str) -> np.ndarray:
    return call_predictor(_WORKER_PREDICTOR, chunk, method)


def _ready(_: int) -> int:
    time.sleep(0.05)  # long enough that each warm-up task lands on its own worker
    return 0


class LocalExecutor:
    """single, thread or process; `map` returns one answer per chunk, in chunk order."""

    def __init__(self, kind: str, predictor: Any, workers: int = 1) -> None:
        if kind not in ("single", "thread", "process", FORK):
            raise ValueError(
                f"LocalExecutor kind must be single, thread, process or {FORK}: {kind!r}"
            )
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.kind = kind
        self.predictor = predictor
        self.workers = 1 if kind == "single" else workers
        self._pool: ThreadPoolExecutor | ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        if self.kind == "thread":
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="inference")
        elif self.kind in ("process", FORK):
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=get_context("fork" if self.kind == FORK else "spawn"),
                initializer=_install,
                initargs=(self.predictor,),
            )
        return self

    def warm_up(self) -> float:
        """Start every worker now (a spawned worker imports and unpickles); seconds taken."""
        start = time.perf_counter()
        if isinstance(self._pool, ProcessPoolExecutor):  # threads start with no cost to hide
            list(self._pool.map(_ready, range(self.workers)))
        return time.perf_counter() - start

    def map(self, chunks: Sequence[pl.DataFrame], method: str = "predict") -> list[np.ndarray]:
        if self._pool is None:
            return [call_predictor(self.predictor, chunk, method) for chunk in chunks]
        if isinstance(self._pool, ThreadPoolExecutor):
            return list(
                self._pool.map(call_predictor, repeat(self.predictor), chunks, repeat(method))
            )
        return list(self._pool.map(_call_installed, chunks, repeat(method)))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=exc_type is None, cancel_futures=True)
        for process in processes:  # after an error, or a worker that will not exit: kill it
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


def open_executor(
    kind: str,
    predictor: Any,
    workers: int = 1,
    *,
    ray_address: str | None = None,
    ray_temp_dir: Path | None = None,
) -> Any:
    """An executor context manager of `kind` (one of `EXECUTORS`) bound to `predictor`."""
    if kind == "ray":
        from data_platform.inference.ray_executor import RayExecutor

        return RayExecutor(predictor, workers, address=ray_address, temp_dir=ray_temp_dir)
    if kind not in (*EXECUTORS, FORK):
        raise ValueError(f"executor must be one of {EXECUTORS}, got {kind!r}")
    return LocalExecutor(kind, predictor, workers)


def predict_chunked(
    executor: Any, frame: pl.DataFrame | np.ndarray, chunk_size: int, method: str = "predict"
) -> np.ndarray:
    """Split, map on an open executor, concatenate in order."""
    select = getattr(executor.predictor, "select_inputs", None)
    inputs = select(frame) if select else frame  # ship only what the model reads
    answers = executor.map(split_chunks(inputs, chunk_size), method)
    if not answers:
        answer: np.ndarray = getattr(executor.predictor, method)(inputs)
        return answer
    return np.concatenate(answers, axis=0)


def run_inference(
    model: Any,
    frame: pl.DataFrame,
    executor: str = "single",
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    method: str = "predict",
    ray_address: str | None = None,
    ray_temp_dir: Path | None = None,
) -> np.ndarray:
    """Predict `frame` in chunks on an executor; the same answer as `model.<method>(frame)`.

    Args:
        model: a picklable object with `predict(frame)` (and `predict_proba` for that
            method), e.g. a `ReviewModel` or a `RemoteModel`; its optional
            `select_inputs(frame)` trims what is sent to workers.
        frame: rows to predict.
        executor: ``single``, ``thread``, ``process`` or ``ray``.
        workers: threads, processes or Ray CPUs.
        chunk_size: rows per task.
        method: ``predict`` or ``predict_proba``.
        ray_address: a Ray cluster to join; default a local Ray started and shut down here.
        ray_temp_dir: Ray's session folder for a local Ray (default ``.data_platform/ray``).

    Returns:
        The predictions, rows in input order.
    """
    with open_executor(
        executor, model, workers, ray_address=ray_address, ray_temp_dir=ray_temp_dir
    ) as pool:
        return predict_chunked(pool, frame, chunk_size, method)
