"""Storage-format benchmark: every format x library at one size, and the harness's overhead.

Runs each case with `run_format_case` (warm-up, >= 5 timed rounds, cold loads, file size,
peak RSS in fresh processes), prints the summary table, writes plots, markdown and the
rows (Parquet) to --out. Then, for the overhead cases, times a bare library read of the
very file the benchmark just measured (same cold-cache eviction before each read) and
compares them over alternating pairs (benchmark load, bare load), so drifts in machine load
hit both. The verdict uses the best time of each side (noise from other jobs only ever adds
time; the harness's overhead would be in every run); medians are printed beside it.
Target: the benchmark's load time within 10% of the bare read.
--target s3 starts its own embedded S3 server in a temporary folder (no project state).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from data_platform.core.benchmarks import (
    SUPPORTED,
    FormatCase,
    FormatResult,
    all_cases,
    drop_from_cache,
    markdown_table,
    parse_size,
    plot_load_vs_size,
    plot_save_load,
    results_table,
    run_format_case,
    size_label,
)
from data_platform.core.benchmarks.codecs import Codec, get_codec
from data_platform.core.benchmarks.locations import Location
from data_platform.core.benchmarks.runner import timed_call, timed_load
from data_platform.core.generate import generate_reviews

console = Console(highlight=False, width=150)
OVERHEAD_TARGET = 0.10
QUICK_PAIRS = (
    "parquet-zstd|polars",
    "parquet-zstd|pandas",
    "parquet-snappy|pyarrow",
    "ipc|pyarrow",
    "ipc|polars",
    "ipc-lz4|polars",
    "ipc-zstd|pandas",
    "csv|polars",
    "orc|pyarrow",
    "jsonl|polars",
    "pickle|polars",
)


def _bare_reads() -> dict[str, Callable[[str], Any]]:
    """The plain library call a user would time, per overhead case (format|library)."""
    import pandas as pd
    import pyarrow.feather as feather

    text_schema = {**generate_reviews(1).schema, "created_at": pl.String}
    return {
        "parquet-zstd|polars": lambda path: pl.read_parquet(path),
        "csv|polars": lambda path: pl.read_csv(path, schema=text_schema).with_columns(
            pl.col("created_at").str.to_datetime(time_unit="us", time_zone="UTC")
        ),
        "csv|pandas": lambda path: pd.read_csv(path, parse_dates=["created_at"]),
        "ipc|pyarrow": lambda path: feather.read_table(path, memory_map=True),
    }


def bare_read(read: Callable[[str], Any], path: str) -> float:
    """Evict, then `start; read(path); stop`: nothing else inside the timer."""
    drop_from_cache(path)
    start = time.perf_counter()
    frame = read(path)
    elapsed = time.perf_counter() - start
    del frame
    return elapsed


def harness_cost_s(calls: int = 20_000) -> float:
    """What the benchmark adds inside its timer, measured with a reader that does nothing.

    Benchmark: `timed_call(location.load, codec, schema)`; bare: `start; read(); stop`.
    The difference of the medians is the harness's own time per load (dispatch, calls).
    """

    def noop(_source: Any, _schema: Any = None) -> None:
        return None

    codec = Codec("noop", "noop", lambda _f, _s: None, noop, "polars")
    location, schema = Location("local", "/dev/null"), pl.Schema()
    harness = [timed_call(location.load, codec, schema)[0] for _ in range(calls)]
    bare = []
    for _ in range(calls):
        start = time.perf_counter()
        noop("/dev/null")
        bare.append(time.perf_counter() - start)
    return max(0.0, statistics.median(harness) - statistics.median(bare))


def paired_overhead(case: FormatCase, path: str, read: Callable[[str], Any], pairs: int) -> dict:
    """Alternate the benchmark's timed load and the bare read, so both see the same machine.

    On a shared, busy machine, load times drift by more than 10% within a minute; pairs
    taken back to back cancel that drift out of the comparison.
    """
    codec = get_codec(case.format, case.library)
    location = Location("local", path)
    schema = generate_reviews(1).schema
    read(path)  # warm-up, as the benchmark does
    bench, bare = [], []
    for i in range(pairs):
        first_bench = i % 2 == 0  # alternate the order too
        if first_bench:
            bench.append(timed_load(location, codec, schema)[0])
        bare.append(bare_read(read, path))
        if not first_bench:
            bench.append(timed_load(location, codec, schema)[0])
    return {
        "paired_bench": statistics.median(bench),
        "paired_bare": statistics.median(bare),
        "min_bench": min(bench),
        "min_bare": min(bare),
    }


def _case_table(table: pl.DataFrame) -> Table:
    out = Table(title="format benchmark (medians; peaks are RSS high-water above baseline)")
    names = ("case", "MiB", "save s", "load s", "load rows/s", "peak save", "peak load")
    for name in (*names, "load avg"):
        out.add_column(name, justify="left" if name == "case" else "right")
    for row in table.iter_rows(named=True):
        peak = [row["peak_save_bytes"], row["peak_load_bytes"]]
        out.add_row(
            row["case_id"] + ("" if row["load_cache"] == "cold" else f" ({row['load_cache']})"),
            f"{row['file_mb']:.1f}",
            f"{row['save_s_median']:.3f}",
            f"{row['load_s_median']:.4f}",
            f"{row['load_rows_per_s']:,.0f}",
            *("-" if p is None else f"{p / 2**20:.0f} MiB" for p in peak),
            f"{row['machine_load']:.1f}",
        )
    return out


def _settings_for_s3(tmp: Path) -> tuple[Any, Any]:
    from data_platform.settings import Settings
    from data_platform.stack.seaweed import EmbeddedS3
    from data_platform.storage import ObjectStore

    stack = EmbeddedS3(tmp / "stack")
    state = stack.up()
    settings = Settings(
        home=tmp / "home",
        s3_endpoint=state.endpoint,
        s3_access_key=state.access_key,
        s3_secret_key=state.secret_key,
    )
    ObjectStore.from_settings(settings).ensure_bucket()
    return stack, settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=parse_size, default="1m", help="rows (1m, 100k, ...)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per case (>= 5)")
    parser.add_argument(
        "--pairs",
        nargs="+",
        default=list(QUICK_PAIRS),
        help="format|library pairs to run (default: one or two per format, the fast ones)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="every supported pair (26; adds pandas CSV/JSON, HDF5 and Avro, which are "
        "slow: 30+ minutes at 1m rows on 2 busy cores)",
    )
    parser.add_argument("--target", choices=("local", "s3", "both"), default="local")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-RSS measurement")
    parser.add_argument(
        "--overhead-cases",
        nargs="*",
        default=["parquet-zstd|polars", "ipc|pyarrow", "csv|polars"],
        help="format|library pairs to compare against a bare read (local target)",
    )
    parser.add_argument("--out", type=Path, default=Path(".data_platform/benchmarks/formats"))
    args = parser.parse_args()

    targets = ("local", "s3") if args.target == "both" else (args.target,)
    pairs = SUPPORTED if args.full else [tuple(p.split("|")) for p in args.pairs]
    unknown = [p for p in pairs if p not in SUPPORTED]
    if unknown:
        parser.error(f"not a supported format|library pair: {unknown}")
    cases = [
        case
        for case in all_cases(sizes=(size_label(args.rows),), targets=targets)
        if (case.format, case.library) in pairs
    ]
    frame = generate_reviews(args.rows, seed=0)
    console.print(f"{len(cases)} cases at {args.rows:,} rows; {args.repeats} rounds each")
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        stack, settings = _settings_for_s3(Path(tmp)) if "s3" in targets else (None, None)
        try:
            results, overhead = run_all(cases, frame, Path(tmp), settings, args)
        finally:
            if stack is not None:
                stack.down()
    report(results, overhead, args.out)


def run_all(
    cases: list[FormatCase], frame: pl.DataFrame, tmp: Path, settings: Any, args: Any
) -> tuple[list[FormatResult], list[dict[str, Any]]]:
    results, overhead = [], []
    bare = _bare_reads()
    for case in cases:
        pair = f"{case.format}|{case.library}"
        check = case.target == "local" and pair in args.overhead_cases
        start = time.perf_counter()
        result = run_format_case(
            case,
            workdir=tmp / "files",
            settings=settings,
            frame=frame,
            repeats=args.repeats,
            measure_memory=not args.no_memory,
            keep_file=check,
        )
        results.append(result)
        console.print(
            f"  {case.case_id:34} load {result.load_s_median:8.4f} s  "
            f"save {result.save_s_median:8.3f} s  ({time.perf_counter() - start:.0f} s)"
        )
        if check:
            pairs = max(args.repeats, 15)
            row = paired_overhead(case, result.location, bare[pair], pairs)
            Path(result.location).unlink()
            overhead.append({"case": case.case_id, "reported": result.load_s_median, **row})
    return results, overhead


def report(results: list[FormatResult], overhead: list[dict[str, Any]], out: Path) -> None:
    table = results_table(results)
    console.print(_case_table(table))
    out.mkdir(parents=True, exist_ok=True)
    (out / "load_vs_size.png").write_bytes(plot_load_vs_size(table))
    (out / "save_load.png").write_bytes(plot_save_load(table))
    (out / "summary.md").write_text(markdown_table(table) + "\n")
    table.write_parquet(out / "results.parquet")
    console.print(f"plots, summary.md and results.parquet in {out}")
    fp = table.row(0, named=True)
    console.print(f"fingerprint {fp['fp_id']}: {fp['fp_cpu']}, {fp['fp_cores']} cores")
    if overhead:
        cost = harness_cost_s()
        fastest = min(row["min_bare"] for row in overhead)
        console.print(
            f"harness time inside the timer: {cost * 1e6:.2f} us per load (no-op reader), "
            f"{cost / fastest:.5%} of the fastest bare load here ({fastest:.4f} s)"
        )
    for row in overhead:
        ratio = row["min_bench"] / row["min_bare"]
        verdict = "PASS" if abs(ratio - 1) <= OVERHEAD_TARGET else "FAIL"
        console.print(
            f"overhead {row['case']}: benchmark load {row['min_bench']:.4f} s vs bare read "
            f"{row['min_bare']:.4f} s (best of alternating pairs) -> ratio {ratio:.3f}; "
            f"target within 10%: {verdict}. Medians {row['paired_bench']:.4f} vs "
            f"{row['paired_bare']:.4f} s -> {row['paired_bench'] / row['paired_bare']:.3f}; "
            f"the case's own median, taken earlier: {row['reported']:.4f} s."
        )


if __name__ == "__main__":
    main()
