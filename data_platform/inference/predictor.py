"""The unit of work every executor runs: one predictor method on one chunk.

Its own module, so the local executors and the Ray executor both import it and neither
imports the other (`executors.open_executor` imports `ray_executor` only when asked).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl


def call_predictor(predictor: Any, chunk: pl.DataFrame, method: str) -> np.ndarray:
    """`predictor.<method>(chunk)`: the unit of work every executor runs."""
    answer: np.ndarray = getattr(predictor, method)(chunk)
    return answer
