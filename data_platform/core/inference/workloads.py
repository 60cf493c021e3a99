"""The two benchmark workloads, as predictors with the same `predict(frame)` interface.

``cpu``: the real `ReviewModel`; tokenising holds the GIL, so only processes (or Ray
workers) run it in parallel. ``latency``: `RemoteModel`, a stand-in for a call to a model
served elsewhere (an HTTP endpoint, a GPU server): each call waits `latency_s` without using
the CPU, then answers with a cheap deterministic rule. Waiting releases the GIL, so threads
overlap the waits. This module stays light to import (no scikit-learn): process workers of
the latency workload start faster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import polars as pl

from data_platform.core.generate import REVIEW_CLASSES

WORKLOADS = ("cpu", "latency")
DEFAULT_LATENCY_S = 0.05


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
        return labels[frame["text"].str.len_bytes().to_numpy() % len(REVIEW_CLASSES)]


def workload_predictor(workload: str, model: Any, latency_s: float = DEFAULT_LATENCY_S) -> Any:
    """The predictor of a workload: `model` for ``cpu``, a `RemoteModel` for ``latency``."""
    if workload == "cpu":
        return model
    if workload == "latency":
        return RemoteModel(latency_s)
    raise ValueError(f"workload must be one of {WORKLOADS}, got {workload!r}")
