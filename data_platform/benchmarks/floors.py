"""Floors measured in the same run as the thing they bound: a benchmark's ratio is only as
honest as its denominator, so the floor is computed on this machine, now, the fast way.

- Search: exact top-k over a C-contiguous float32 matrix (one BLAS matrix-vector product and
  a partial sort), with the BLAS library and its thread count reported.
- Loading a table: bytes in memory over the measured memcpy bandwidth.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from data_platform.embedding.exact import exact_search_numpy


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries numpy uses and their thread counts (threadpoolctl), or []."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn here
        return []
    return [
        {
            "api": info.get("user_api"),
            "library": info.get("internal_api"),
            "version": info.get("version"),
            "threads": info.get("num_threads"),
        }
        for info in threadpool_info()
    ]


def blas_summary() -> str:
    """One line, e.g. ``openblas 0.3.29, 2 threads``."""
    infos = [i for i in blas_info() if i["api"] == "blas"]
    if not infos:
        return "BLAS unknown (threadpoolctl not installed)"
    return ", ".join(f"{i['library']} {i['version']}, {i['threads']} threads" for i in infos)


def search_floor_ms(
    matrix: np.ndarray, queries: np.ndarray, k: int, *, warm_up: bool = True
) -> list[float]:
    """Milliseconds per query of the exact top-k over ``matrix`` (made contiguous float32).

    The conversion happens once, outside the timings: the floor is the search, not a copy.
    Pass a matrix that is already contiguous float32 to time queries one at a time cheaply.
    """
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, matrix.shape[1])
    if warm_up:
        exact_search_numpy(matrix, queries[0], k)  # pages touched, BLAS threads up
    times = []
    for query in queries:
        started = time.perf_counter()
        exact_search_numpy(matrix, query, k)
        times.append((time.perf_counter() - started) * 1000)
    return times


def memcpy_gbps(nbytes: int = 256 * 2**20, repeats: int = 5) -> float:
    """Best memory-copy bandwidth of ``repeats`` copies of ``nbytes`` (GB/s, 1e9 bytes)."""
    source = np.ones(nbytes, dtype=np.uint8)
    target = np.empty_like(source)
    np.copyto(target, source)  # warm-up: both buffers faulted in
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return nbytes / best / 1e9


def bandwidth_floor_s(nbytes_in_memory: int, gbps: float) -> float:
    """Seconds to move a table's in-memory bytes once at the measured bandwidth."""
    return nbytes_in_memory / (gbps * 1e9)
