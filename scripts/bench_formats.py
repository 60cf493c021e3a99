"""Storage-format benchmark: every format x library at one size, against measured floors.

Runs each case with `run_format_case` (warm-up, >= 5 timed rounds, cold loads, file size,
peak RSS in fresh processes), prints the summary table, writes plots, markdown and the
rows (Parquet) to --out. Each case's load time is shown over two references measured in
the same run: the memory-bandwidth floor (the table's bytes in memory, as polars holds it,
divided by the memcpy bandwidth measured now: no load can be faster than touching its
output once) and the best case at the same size and target. Loads that were meant cold but
could not be made cold (page-cache eviction unavailable or not verified) are marked.
--target s3 starts its own embedded S3 server in a temporary folder (no project state).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from data_platform.benchmarks.cases import SUPPORTED, FormatCase, all_cases, parse_size, size_label
from data_platform.benchmarks.floors import bandwidth_floor_s, memcpy_gbps
from data_platform.benchmarks.format_runner import FormatResult, run_format_case
from data_platform.benchmarks.summary import (
    markdown_table,
    plot_load_vs_size,
    plot_save_load,
    results_table,
)
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.synthetic import generate_reviews

console = Console(highlight=False, width=150)
COLD_LABEL = {"cold": "yes", "warm": "NOT COLD", "remote": "remote (S3)"}
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


def _case_table(table: pl.DataFrame, floor_s: float, gbps: float) -> Table:
    out = Table(
        title=f"format benchmark (medians; peaks are RSS high-water above baseline); floor = "
        f"{floor_s * 1e3:.1f} ms = table bytes in memory / memcpy {gbps:.1f} GB/s measured now"
    )
    names = ("case", "MiB", "save s", "load s", "x floor", "x best", "cold", "peak load")
    for name in (*names, "load avg"):
        out.add_column(name, justify="left" if name == "case" else "right")
    best = table.group_by("target").agg(pl.col("load_s_median").min().alias("best"))
    for row in table.join(best, on="target").iter_rows(named=True):
        peak = row["peak_load_bytes"]
        out.add_row(
            row["case_id"],
            f"{row['file_mb']:.1f}",
            f"{row['save_s_median']:.3f}",
            f"{row['load_s_median']:.4f}",
            f"{row['load_s_median'] / floor_s:.1f}x",
            f"{row['load_s_median'] / row['best']:.2f}x",
            COLD_LABEL.get(row["load_cache"], row["load_cache"]),
            "-" if peak is None else f"{peak / 2**20:.0f} MiB",
            f"{row['machine_load']:.1f}",
        )
    return out


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
    in_memory = int(frame.estimated_size())
    gbps = memcpy_gbps(max(in_memory, 64 * 2**20))
    floor_s = bandwidth_floor_s(in_memory, gbps)
    console.print(
        f"{len(cases)} cases at {args.rows:,} rows ({in_memory / 2**20:.0f} MiB in memory); "
        f"{args.repeats} rounds each; memcpy {gbps:.1f} GB/s -> floor {floor_s * 1e3:.1f} ms"
    )
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        lake = temporary_lake(Path(tmp)) if "s3" in targets else contextlib.nullcontext(None)
        with lake as settings:
            results = run_all(cases, frame, Path(tmp), settings, args)
    report(results, args.out, floor_s, gbps)


def run_all(
    cases: list[FormatCase], frame: pl.DataFrame, tmp: Path, settings: Any, args: Any
) -> list[FormatResult]:
    results = []
    for case in cases:
        start = time.perf_counter()
        result = run_format_case(
            case,
            workdir=tmp / "files",
            settings=settings,
            frame=frame,
            repeats=args.repeats,
            measure_memory=not args.no_memory,
        )
        results.append(result)
        console.print(
            f"  {case.case_id:34} load {result.load_s_median:8.4f} s  "
            f"save {result.save_s_median:8.3f} s  ({time.perf_counter() - start:.0f} s)"
        )
    return results


def report(results: list[FormatResult], out: Path, floor_s: float, gbps: float) -> None:
    table = results_table(results)
    console.print(_case_table(table, floor_s, gbps))
    out.mkdir(parents=True, exist_ok=True)
    (out / "load_vs_size.png").write_bytes(plot_load_vs_size(table))
    (out / "save_load.png").write_bytes(plot_save_load(table))
    (out / "summary.md").write_text(markdown_table(table) + "\n")
    table.write_parquet(out / "results.parquet")
    console.print(f"plots, summary.md and results.parquet in {out}")
    fp = table.row(0, named=True)
    console.print(f"fingerprint {fp['fp_id']}: {fp['fp_cpu']}, {fp['fp_cores']} cores")
    for target in sorted(table["target"].unique()):
        best = table.filter(pl.col("target") == target).sort("load_s_median").row(0, named=True)
        console.print(
            f"formats: best load at {best['rows']:,} rows on {target}: {best['case_id']} "
            f"{best['load_s_median']:.4f} s = {best['load_s_median'] / floor_s:.1f}x the "
            f"memory-bandwidth floor ({COLD_LABEL.get(best['load_cache'], best['load_cache'])})"
        )
    local = table.filter(pl.col("target") == "local")
    warm = local.filter(pl.col("load_cache") != "cold")["case_id"].to_list()
    console.print(
        f"formats: cold loads made cold: {local.height - len(warm)} of {local.height}"
        + (f" (not cold: {', '.join(warm)})" if warm else "")
        + f": {'PASS' if not warm else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
