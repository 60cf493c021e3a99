"""Inference executor benchmark: single, thread, process and Ray on two workloads.

Trains the review model (scikit-learn, HashingVectorizer + SGD) on generated reviews, then
predicts --rows unseen rows in chunks on every executor, for a CPU-bound workload (the
model's predict) and a latency-bound one (a simulated remote call: --latency seconds per
chunk), plus the floor (one vectorised predict over all rows). Prints the table, the
measured pickling and start-up costs, an explanation, and the targets:

  CPU-bound: the best executor's time within 1.5x of the vectorised floor.
  Latency-bound: thread speed-up over single at least 0.7 x --latency-workers.

Every executor's predictions are checked to equal the floor's. Ray runs locally on
127.0.0.1 with its session files under .data_platform/ray (or joins --ray-address).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from data_platform.core.benchmarks import parse_size
from data_platform.core.generate import generate_reviews, review_model_spec
from data_platform.core.inference import (
    EXECUTORS,
    FLOOR,
    explain,
    inference_cases,
    inference_table,
    measure_costs,
    plot_inference,
    run_inference_case,
    train_model,
)

console = Console(highlight=False, width=150)
CPU_TARGET = 1.5
LATENCY_TARGET = 0.7


def _table(table: pl.DataFrame) -> Table:
    out = Table(title="inference benchmark (median of repeats; start-up measured apart)")
    names = ("case", "time s", "rows/s", "vs single", "vs floor", "cores busy", "start-up s")
    for name in (*names, "load", "same"):
        out.add_column(name, justify="left" if name == "case" else "right")
    for row in table.iter_rows(named=True):
        out.add_row(
            row["case_id"],
            f"{row['time_s_median']:.3f}",
            f"{row['rows_per_s']:,.0f}",
            f"{row['speedup_vs_single']:.2f}x",
            f"{row['vs_floor']:.2f}x",
            f"{row['cores_busy']:.2f}",
            f"{row['startup_s']:.2f}",
            f"{row['machine_load']:.1f}",
            "yes" if row["matches_floor"] else "NO",
        )
    return out


def targets(table: pl.DataFrame, latency_workers: int) -> list[str]:
    """PASS/FAIL lines for the two targets, with the measured ratios."""
    lines = []
    cpu = table.filter((pl.col("workload") == "cpu") & (pl.col("executor") != FLOOR))
    if cpu.height:
        best = cpu.sort("time_s_median").row(0, named=True)
        ratio = best["vs_floor"]
        verdict = "PASS" if ratio <= CPU_TARGET else "FAIL"
        lines.append(
            f"CPU-bound: best executor {best['case_id']} {best['time_s_median']:.2f} s = "
            f"{ratio:.2f}x the vectorised floor (target <= {CPU_TARGET}x): {verdict}"
        )
    threads = table.filter((pl.col("workload") == "latency") & (pl.col("executor") == "thread"))
    if threads.height:
        speedup = threads.row(0, named=True)["speedup_vs_single"]
        needed = LATENCY_TARGET * latency_workers
        verdict = "PASS" if speedup >= needed else "FAIL"
        lines.append(
            f"Latency-bound: thread speed-up {speedup:.2f}x with {latency_workers} workers "
            f"(target >= {LATENCY_TARGET} x {latency_workers} = {needed:.1f}x): {verdict}"
        )
    same = table["matches_floor"].all()
    lines.append(f"Identical predictions on every executor: {'PASS' if same else 'FAIL'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=parse_size, default="1m", help="rows to predict")
    parser.add_argument("--train-rows", type=parse_size, default="50k", help="training rows")
    parser.add_argument("--chunk-size", type=parse_size, default="10k", help="rows per task")
    parser.add_argument("--workers", type=int, default=2, help="workers, CPU-bound workload")
    parser.add_argument(
        "--latency-workers", type=int, default=8, help="workers N, latency-bound workload"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per remote call")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per case (median)")
    parser.add_argument("--executors", nargs="+", choices=EXECUTORS, default=list(EXECUTORS))
    parser.add_argument("--ray-address", default=None, help="join this Ray cluster instead")
    parser.add_argument("--ray-temp-dir", type=Path, default=Path(".data_platform/ray"))
    parser.add_argument("--out", type=Path, default=Path(".data_platform/benchmarks/inference"))
    args = parser.parse_args()

    started = time.perf_counter()
    model = train_model(generate_reviews(args.train_rows, seed=1), review_model_spec())
    frame = generate_reviews(args.rows, seed=2)
    console.print(
        f"model trained on {args.train_rows:,} rows in {time.perf_counter() - started:.1f} s; "
        f"accuracy on {min(args.rows, 50_000):,} unseen rows "
        f"{model.accuracy(frame.head(50_000)):.3f}; predicting {args.rows:,} rows"
    )
    results = []
    for case in inference_cases(
        args.workers, args.latency_workers, args.chunk_size, tuple(args.executors)
    ):
        result = run_inference_case(
            case,
            model,
            frame,
            repeats=args.repeats,
            latency_s=args.latency,
            ray_address=args.ray_address,
            ray_temp_dir=args.ray_temp_dir,
        )
        console.print(
            f"  {case.case_id:26} {result.time_s_median:8.3f} s  "
            f"(start-up {result.startup_s:.2f} s)"
        )
        results.append(result)
    table = inference_table(results)
    costs = measure_costs(model, frame, args.chunk_size)
    report(table, costs, args)


def report(table: pl.DataFrame, costs: dict[str, Any], args: Any) -> None:
    console.print(_table(table))
    console.print(
        "costs: "
        + ", ".join(
            f"{k}={v / 2**20:.2f} MiB" if k.endswith("bytes") else f"{k}={v:.4f}"
            for k, v in costs.items()
        )
    )
    console.print()
    console.print(explain(table, costs))
    console.print()
    fp = table.row(0, named=True)
    console.print(f"fingerprint {fp['fp_id']}: {fp['fp_cpu']}, {fp['fp_cores']} cores")
    for line in targets(table, args.latency_workers):
        console.print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "executors.png").write_bytes(plot_inference(table))
    table.write_parquet(args.out / "results.parquet")
    (args.out / "explanation.md").write_text(explain(table, costs) + "\n")
    console.print(f"plot, results.parquet and explanation.md in {args.out}")


if __name__ == "__main__":
    main()
