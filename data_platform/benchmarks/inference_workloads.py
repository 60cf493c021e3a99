"""The benchmark workloads, as predictors with the same `predict(frame)` interface.

``cpu``: the real `ReviewModel`; tokenising holds the GIL, so only processes (or Ray
workers) run it in parallel. ``latency``: `RemoteModel`, a stand-in for a call to a model
served elsewhere (an HTTP endpoint, a GPU server): each call waits `latency_s` without using
the CPU, then answers with a cheap deterministic rule. Waiting releases the GIL, so threads
overlap the waits. ``seed``: the course's dummy model (2 ms per 2,048-row batch).
This module stays light to import (no scikit-learn): process workers of
the latency workload start faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import polars as pl

from data_platform.synthetic import REVIEW_CLASSES

WORKLOADS = ("cpu", "latency", "seed")
DEFAULT_LATENCY_S = 0.05

# The workload of the course this platform builds on: 10M rows, a dummy model that waits
# 2 ms per 2,048-row batch, 16 workers; its published times, for the side-by-side table.
SEED_ROWS = 10_000_000
SEED_BATCH_ROWS = 2_048
SEED_WAIT_S = 0.002
SEED_WORKERS = 16
SEED_PUBLISHED_S = {"single": 12.64, "thread": 0.85, "process": 4.03, "ray": 2.19}


class Predictor(Protocol):
    """What an executor runs per chunk."""

    def select_inputs(self, frame: pl.DataFrame) -> pl.DataFrame: ...

    def predict(self, frame: pl.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True)
class RemoteModel:
    """A simulated remote model call: sleep `latency_s` per call, then a cheap answer."""

    latency_s: float = DEFAULT_LATENCY_S

    def select_inputs(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Only the text goes over the (simulated) wire."""
        return frame.select("text")

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Wait like a network round trip, then label each row by its text length."""
        time.sleep(self.latency_s)
        labels = np.array(REVIEW_CLASSES, dtype=object)
        picked: np.ndarray = labels[frame["text"].str.len_bytes().to_numpy() % len(REVIEW_CLASSES)]
        return picked


@dataclass(frozen=True)
class SeedModel:
    """The seed course's dummy model: waits `wait_s` per `batch_rows` rows, then sums each row.

    The wait stands for a model whose cost is per batch and releases the GIL (a compiled
    kernel, an accelerator); the row sum makes the answer depend on every input value.
    """

    wait_s: float = SEED_WAIT_S
    batch_rows: int = SEED_BATCH_ROWS

    def select_inputs(self, frame: np.ndarray) -> np.ndarray:
        return frame

    def batches(self, rows: int) -> int:
        """How many waits a chunk of `rows` rows costs."""
        return -(-rows // self.batch_rows)

    def predict(self, frame: np.ndarray) -> np.ndarray:
        values = np.asarray(frame)
        out = np.empty(len(values), dtype=values.dtype)
        for start in range(0, len(values), self.batch_rows):
            time.sleep(self.wait_s)
            out[start : start + self.batch_rows] = values[start : start + self.batch_rows].sum(1)
        return out


def seed_frame(rows: int = SEED_ROWS, columns: int = 4, seed: int = 0) -> np.ndarray:
    """The seed workload's input: ``rows`` x ``columns`` float32 features (16 B a row).

    A numpy array, not a polars frame: polars' thread pool does not survive ``fork``, and
    the seed table reports forked process pools next to spawned ones.
    """
    return np.random.default_rng(seed).random((rows, columns), dtype=np.float32)


def workload_predictor(workload: str, model: Any, latency_s: float = DEFAULT_LATENCY_S) -> Any:
    """The predictor of a workload: `model` for ``cpu``, a `RemoteModel` for ``latency``,
    the seed course's `SeedModel` for ``seed``."""
    if workload == "cpu":
        return model
    if workload == "latency":
        return RemoteModel(latency_s)
    if workload == "seed":
        return SeedModel()
    raise ValueError(f"workload must be one of {WORKLOADS}, got {workload!r}")
