"""Cold-read eviction and the RSS high-water measurement, on real files and allocations."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data_platform.benchmarks.memory import PeakRSS, run_isolated
from data_platform.benchmarks.page_cache import drop_from_cache, resident_fraction


def test_drop_from_cache_makes_the_file_cold(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(4 * 2**20))
    path.read_bytes()
    assert resident_fraction(path) == 1.0
    assert drop_from_cache(path) is True
    assert resident_fraction(path) == 0.0
    path.read_bytes()
    assert resident_fraction(path) == 1.0


def test_peak_rss_sees_native_allocations() -> None:
    with PeakRSS() as peak:
        block = np.ones(64 * 2**20, dtype=np.uint8)  # 64 MiB outside Python's allocator
        del block
    assert peak.method in ("vmhwm", "psutil-sampling")
    assert 60 * 2**20 <= peak.peak_bytes < 200 * 2**20


def _allocate(mib: int) -> int:
    with PeakRSS() as peak:
        np.ones(mib * 2**20, dtype=np.uint8).sum()
    return peak.peak_bytes


def test_run_isolated_returns_the_child_result_and_reaps_it() -> None:
    assert run_isolated(_allocate, 32) >= 30 * 2**20
