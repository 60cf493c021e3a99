"""Run one storage-format case: timed saves and cold loads, file size, peak memory.

One call per case (`run_format_case`) returns one `FormatResult` row, so an orchestrator
can map cases to partitions. Timing: one warm-up save+load, then `repeats` timed rounds;
each round removes the old file, times the save, evicts the file from the page cache
(outside the timer) and times the load. Only the library call is inside the timer.
Peak memory comes from two extra runs in fresh processes (see `memory`).
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from data_platform.benchmarks.cases import FormatCase, parse_case_id
from data_platform.benchmarks.codecs import Codec, get_codec, row_count
from data_platform.benchmarks.locations import Location, case_location
from data_platform.benchmarks.memory import PeakRSS, run_isolated
from data_platform.benchmarks.provenance import FORMAT_PACKAGES, fingerprint
from data_platform.synthetic import generate_reviews

if TYPE_CHECKING:
    from data_platform.settings import Settings

MIN_REPEATS = 5


@dataclass
class FormatResult:
    """One result row; `to_dict()` is flat (lists of floats aside) for a polars table."""

    case_id: str
    format: str
    library: str
    target: str
    rows: int
    file_bytes: int
    save_s_min: float
    save_s_median: float
    load_s_min: float
    load_s_median: float
    save_rows_per_s: float
    load_rows_per_s: float
    load_cache: str  # cold | warm (eviction not possible or not verified) | remote (s3)
    repeats: int
    peak_save_bytes: int | None
    peak_load_bytes: int | None
    memory_method: str  # vmhwm | psutil-sampling | not-measured
    machine_load: float  # 1-minute load average after the case: other jobs on the machine
    location: str
    save_s: list[float] = field(default_factory=list)
    load_s: list[float] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        return {**row.pop("fingerprint"), **row}


def timed_call(func: Any, *args: Any) -> tuple[float, Any]:
    """`func(*args)` between two `perf_counter` reads: (seconds, result)."""
    start = time.perf_counter()
    out = func(*args)
    return time.perf_counter() - start, out


def _peak_save(location: Location, case: FormatCase, frame: pl.DataFrame) -> tuple[int, str]:
    codec = get_codec(case.format, case.library)
    native = codec.prepare(frame)
    del frame
    gc.collect()
    with PeakRSS() as peak:
        location.save(codec, native)
    return peak.peak_bytes, peak.method


def _peak_load(location: Location, case: FormatCase, schema: pl.Schema) -> tuple[int, str]:
    codec = get_codec(case.format, case.library)
    location.make_cold()
    with PeakRSS() as peak:
        loaded = location.load(codec, schema)
    del loaded
    return peak.peak_bytes, peak.method


def timed_load(location: Location, codec: Codec, schema: pl.Schema) -> tuple[float, str, int]:
    """Evict, then time one load exactly as the benchmark does: (seconds, cache, rows)."""
    cache = location.make_cold()
    load_s, loaded = timed_call(location.load, codec, schema)
    rows = row_count(loaded)
    del loaded
    return load_s, cache, rows


def _round(
    location: Location, codec: Codec, native: Any, schema: pl.Schema
) -> tuple[float, float, str, int]:
    location.delete()
    save_s, _ = timed_call(location.save, codec, native)
    load_s, cache, rows = timed_load(location, codec, schema)
    return save_s, load_s, cache, rows


def run_format_case(
    case: FormatCase | str,
    *,
    workdir: Path | None = None,
    settings: Settings | None = None,
    frame: pl.DataFrame | None = None,
    repeats: int = MIN_REPEATS,
    seed: int = 0,
    measure_memory: bool = True,
    keep_file: bool = False,
) -> FormatResult:
    """Benchmark one case and return its result row.

    Args:
        case: a `FormatCase` or its id, e.g. ``"parquet-zstd|polars|1m|local"``.
        workdir: folder for local files (required for the local target).
        settings: where the S3 store is (required for the s3 target).
        frame: the data to write; default `generate_reviews(case.rows, seed)`.
        repeats: timed rounds after the warm-up (at least 5).
        seed: seed of the generated data when `frame` is not given.
        measure_memory: also measure peak RSS of a save and of a load in fresh processes.
        keep_file: leave the file in place (`result.location`) instead of deleting it.

    Returns:
        The case's `FormatResult`, with min and median times and the fingerprint.
    """
    case = parse_case_id(case) if isinstance(case, str) else case
    if repeats < MIN_REPEATS:
        raise ValueError(f"repeats must be at least {MIN_REPEATS}, got {repeats}")
    frame = generate_reviews(case.rows, seed) if frame is None else frame
    if frame.height != case.rows:
        raise ValueError(f"frame has {frame.height} rows, case {case.case_id} wants {case.rows}")
    codec = get_codec(case.format, case.library)
    name = f"{case.slug}.{codec.extension}"
    location = case_location(case.target, name, workdir=workdir, settings=settings)
    native = codec.prepare(frame)
    gc.collect()  # once: frames free by reference count; a full collection per round is slow
    try:
        _round(location, codec, native, frame.schema)  # warm-up: imports, allocators, caches
        rounds = [_round(location, codec, native, frame.schema) for _ in range(repeats)]
        del native
        if any(rows != case.rows for *_, rows in rounds):
            raise RuntimeError(f"{case.case_id}: a load returned the wrong row count")
        file_bytes = location.size()
        peaks: tuple[Any, ...] = (None, None, "not-measured")
        if measure_memory:
            save_peak, method = run_isolated(_peak_save, location, case, frame)
            load_peak, _ = run_isolated(_peak_load, location, case, frame.schema)
            peaks = (save_peak, load_peak, method)
    finally:
        if not keep_file:
            location.delete()
    save_s = [r[0] for r in rounds]
    load_s = [r[1] for r in rounds]
    caches = {r[2] for r in rounds}
    return FormatResult(
        case_id=case.case_id,
        format=case.format,
        library=case.library,
        target=case.target,
        rows=case.rows,
        file_bytes=file_bytes,
        save_s_min=min(save_s),
        save_s_median=statistics.median(save_s),
        load_s_min=min(load_s),
        load_s_median=statistics.median(load_s),
        save_rows_per_s=case.rows / statistics.median(save_s),
        load_rows_per_s=case.rows / statistics.median(load_s),
        load_cache=caches.pop() if len(caches) == 1 else "warm",
        repeats=repeats,
        peak_save_bytes=peaks[0],
        peak_load_bytes=peaks[1],
        memory_method=peaks[2],
        machine_load=os.getloadavg()[0],
        location=location.uri,
        save_s=save_s,
        load_s=load_s,
        fingerprint=fingerprint(FORMAT_PACKAGES),
    )
