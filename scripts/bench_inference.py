"""Inference executor benchmark: the seed course's table reproduced, then the real model.

1. Seed workload (the course this platform builds on): --seed-rows rows (10M), a dummy model
   that waits 2 ms per 2,048-row batch, --seed-workers workers (16), one chunk per worker, on
   single, threads, processes (spawn and fork) and Ray, printed next to the published
   12.64 s / 0.85 s / 4.03 s / 2.19 s (scaled by rows when --seed-rows is not 10M).
   Targets: threads >= 0.8 x workers speed-up over single; Ray within 1.5x of threads.
2. CPU-bound: the review model (scikit-learn, HashingVectorizer + SGD) predicts --rows
   unseen rows. The baseline is the best single-process chunked run (chunk size tuned over
   --chunk-sizes, the same predictions as one vectorised call); each parallel executor runs
   at that chunk size with --workers workers. Reported: cores busy (CPU seconds of the
   driver and its workers per wall second), start-up, pickling and transfer costs.
   Target: the best parallel executor >= 1.6x the best single-process run.

Every run's predictions are checked to be identical. Start-up (pool creation, worker
imports) is measured apart from the timed runs, which reuse the warm pool. Ray is a fresh
local instance on 127.0.0.1 with its session files under --ray-temp-dir (never a cluster
found through RAY_ADDRESS), or joins --ray-address.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from data_platform.benchmarks.cases import parse_size, size_label
from data_platform.benchmarks.inference_bench import (
    FLOOR,
    InferenceCase,
    InferenceResult,
    run_inference_case,
)
from data_platform.benchmarks.inference_report import inference_table, measure_costs, plot_inference
from data_platform.benchmarks.inference_workloads import (
    SEED_PUBLISHED_S,
    SEED_ROWS,
    SEED_WORKERS,
    seed_frame,
)
from data_platform.inference.executors import EXECUTORS, FORK
from data_platform.inference.model import train_model
from data_platform.synthetic import generate_reviews, review_model_spec

console = Console(highlight=False, width=150)
THREADS_TARGET = 0.8  # x workers
RAY_VS_THREADS_TARGET = 1.5
CPU_TARGET = 1.6


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _run(case: InferenceCase, model: Any, frame: Any, args: argparse.Namespace) -> InferenceResult:
    result = run_inference_case(
        case,
        model,
        frame,
        repeats=args.repeats,
        ray_address=args.ray_address,
        ray_temp_dir=args.ray_temp_dir,
    )
    console.print(
        f"  {case.case_id:30} {result.time_s_median:8.3f} s  (start-up {result.startup_s:.2f} s, "
        f"{result.cores_busy:.2f} cores busy)"
    )
    return result


def seed_section(args: argparse.Namespace) -> tuple[list[InferenceResult], list[str]]:
    """The seed table and its target lines."""
    rows, workers = args.seed_rows, args.seed_workers
    frame = seed_frame(rows)
    chunk = -(-rows // workers)  # one chunk per worker, as in the course
    console.print(
        f"[bold]Seed workload[/]: {rows:,} rows x 4 float32, 2 ms per 2,048-row batch, "
        f"{workers} workers, chunks of {chunk:,} rows"
    )
    kinds = [k for k in ("single", "thread", "process", FORK, "ray") if k in args.executors]
    results = {
        kind: _run(
            InferenceCase(
                "seed",
                kind,
                1 if kind == "single" else workers,
                rows if kind == "single" else chunk,
            ),
            None,
            frame,
            args,
        )
        for kind in ("single", *[k for k in kinds if k != "single"])
    }
    scale = rows / SEED_ROWS
    single = results["single"]
    table = Table(
        title=f"Seed table: {rows:,} rows, {workers} workers (published: 10M rows"
        + (f"; scaled x{scale:g} to these rows)" if scale != 1 else ")")
    )
    for column in ("executor", "time s", "published s", "speed-up", "published", "cores busy"):
        table.add_column(column, justify="left" if column == "executor" else "right")
    for column in ("start-up s", "same"):
        table.add_column(column, justify="right")
    for kind, result in results.items():
        published = SEED_PUBLISHED_S.get("process" if kind == FORK else kind)
        label = {"process": "process (spawn)", FORK: "process (fork)"}.get(kind, kind)
        table.add_row(
            label,
            f"{result.time_s_median:.3f}",
            "" if published is None else f"{published * scale:.3f}",
            f"{single.time_s_median / result.time_s_median:.2f}x",
            "" if published is None else f"{SEED_PUBLISHED_S['single'] / published:.2f}x",
            f"{result.cores_busy:.2f}",
            f"{result.startup_s:.2f}",
            "yes" if result.predictions_sha1 == single.predictions_sha1 else "NO",
        )
    console.print(table)
    lines = []
    if "thread" in results:
        speedup = single.time_s_median / results["thread"].time_s_median
        needed = THREADS_TARGET * workers
        lines.append(
            f"Seed: threads {speedup:.2f}x single with {workers} workers "
            f"(target >= {THREADS_TARGET} x {workers} = {needed:.1f}x): "
            + verdict(speedup >= needed)
        )
    if "thread" in results and "ray" in results:
        ratio = results["ray"].time_s_median / results["thread"].time_s_median
        lines.append(
            f"Seed: Ray {ratio:.2f}x the threads' time (target <= {RAY_VS_THREADS_TARGET}x): "
            f"{verdict(ratio <= RAY_VS_THREADS_TARGET)}"
        )
    same = all(r.predictions_sha1 == single.predictions_sha1 for r in results.values())
    lines.append(f"Seed: identical predictions on every executor: {verdict(same)}")
    return list(results.values()), lines


def cpu_section(args: argparse.Namespace) -> tuple[list[InferenceResult], list[str]]:
    """The CPU-bound comparison against the best tuned single-process run."""
    started = time.perf_counter()
    model = train_model(generate_reviews(args.train_rows, seed=1), review_model_spec())
    frame = generate_reviews(args.rows, seed=2)
    console.print(
        f"[bold]CPU-bound[/]: model trained on {args.train_rows:,} rows in "
        f"{time.perf_counter() - started:.1f} s; accuracy on unseen rows "
        f"{model.accuracy(frame.head(50_000)):.3f}; predicting {args.rows:,} rows"
    )
    floor = _run(InferenceCase("cpu", FLOOR), model, frame, args)
    singles = [
        _run(InferenceCase("cpu", "single", 1, size), model, frame, args)
        for size in args.chunk_sizes
        if size <= args.rows
    ]
    best = min(singles, key=lambda r: r.time_s_median)
    console.print(f"  best single-process chunk size: {size_label(best.chunk_size)}")
    parallel = [
        _run(InferenceCase("cpu", kind, args.workers, best.chunk_size), model, frame, args)
        for kind in ("thread", "process", "ray")
        if kind in args.cpu_executors
    ]
    costs = measure_costs(model, frame, best.chunk_size)
    chunks = -(-args.rows // best.chunk_size)
    table = Table(
        title=f"CPU-bound: {args.rows:,} rows, baseline = best single-process run "
        f"(chunks of {size_label(best.chunk_size)}), {args.workers} workers"
    )
    for column in ("case", "time s", "vs best single", "cores busy", "start-up s", "same"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for result in [floor, *singles, *parallel]:
        table.add_row(
            result.case_id,
            f"{result.time_s_median:.3f}",
            f"{best.time_s_median / result.time_s_median:.2f}x",
            f"{result.cores_busy:.2f}",
            f"{result.startup_s:.2f}",
            "yes" if result.predictions_sha1 == floor.predictions_sha1 else "NO",
        )
    console.print(table)
    shipped = costs["chunk_pickle_bytes"] * chunks
    ship_s = (costs["chunk_pickle_s"] + costs["chunk_unpickle_s"]) * chunks
    console.print(
        f"costs: model pickle {costs['model_pickle_bytes'] / 2**20:.2f} MiB in "
        f"{costs['model_pickle_s'] * 1e3:.1f} ms (once per worker); transfer per run "
        f"{chunks} chunks x {costs['chunk_pickle_bytes'] / 2**10:.0f} KiB = "
        f"{shipped / 2**20:.1f} MiB, {ship_s * 1e3:.0f} ms of pickling and unpickling against "
        f"{costs['chunk_predict_s'] * chunks:.2f} s of predicting; a spawned worker starts in "
        f"{costs['process_worker_start_s']:.2f} s. Forked pools are left out here: polars' "
        "thread pool does not survive fork (the children deadlock), see the seed table."
    )
    lines = []
    if parallel:
        top = min(parallel, key=lambda r: r.time_s_median)
        speedup = best.time_s_median / top.time_s_median
        lines.append(
            f"CPU-bound: best parallel {top.case_id} {top.time_s_median:.2f} s = {speedup:.2f}x "
            f"the best single-process run {best.time_s_median:.2f} s, {top.cores_busy:.2f} cores "
            f"busy (target >= {CPU_TARGET}x): {verdict(speedup >= CPU_TARGET)}"
        )
    same = all(r.predictions_sha1 == floor.predictions_sha1 for r in [*singles, *parallel])
    lines.append(f"CPU-bound: identical predictions on every run: {verdict(same)}")
    return [floor, *singles, *parallel], lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seed-rows", type=parse_size, default=size_label(SEED_ROWS))
    parser.add_argument("--seed-workers", type=int, default=SEED_WORKERS)
    parser.add_argument("--rows", type=parse_size, default="1m", help="rows, CPU-bound")
    parser.add_argument("--train-rows", type=parse_size, default="50k", help="training rows")
    parser.add_argument(
        "--chunk-sizes",
        type=lambda v: [parse_size(s) for s in v.split(",")],
        default="5k,10k,25k,50k,100k",
        help="chunk sizes tried for the single-process baseline",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers, CPU-bound workload")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per case (median)")
    parser.add_argument(
        "--executors",
        nargs="+",
        choices=[*EXECUTORS, FORK],
        default=[*EXECUTORS, FORK],
        help="executors of the seed table (single always runs)",
    )
    parser.add_argument(
        "--cpu-executors",
        nargs="+",
        choices=["thread", "process", "ray"],
        default=["thread", "process", "ray"],
        help="parallel executors of the CPU-bound comparison",
    )
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--ray-address", default=None, help="join this Ray cluster instead")
    parser.add_argument("--ray-temp-dir", type=Path, default=Path(".data_platform/ray"))
    parser.add_argument("--out", type=Path, default=Path(".data_platform/benchmarks/inference"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results, lines = [], []
    for skip, section in ((args.skip_seed, seed_section), (args.skip_cpu, cpu_section)):
        if not skip:
            part, part_lines = section(args)
            results += part
            lines += part_lines
    if not results:
        return
    from data_platform.benchmarks.provenance import fingerprint

    fp = fingerprint(())
    console.print(f"machine: {fp.get('fp_cpu')}, {fp.get('fp_cores')} cores")
    for line in lines:
        console.print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    table = inference_table(results)
    (args.out / "executors.png").write_bytes(plot_inference(table))
    table.write_parquet(args.out / "results.parquet")
    console.print(f"plot and results.parquet in {args.out}")


if __name__ == "__main__":
    main()
