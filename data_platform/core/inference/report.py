"""Inference benchmark summary: the table with speed-ups, measured overheads, a plot, a text."""

from __future__ import annotations

import io
import pickle
import statistics
import time
from collections.abc import Iterable
from typing import Any, cast

import polars as pl

from data_platform.core.inference.bench import FLOOR, InferenceResult
from data_platform.core.inference.executors import LocalExecutor, split_chunks

# the workloads' plot titles ("seed" is the course's workload: a fixed wait per batch)
TITLES = {
    "cpu": "CPU-bound workload (the real model)",
    "latency": "latency-bound workload (a wait per chunk)",
    "seed": "seed workload (2 ms per 2,048-row batch)",
}


def inference_table(results: Iterable[InferenceResult | dict[str, Any]]) -> pl.DataFrame:
    """Rows plus `speedup_vs_single`, `vs_floor` (time / floor time) and `matches_floor`."""
    rows = [r.to_dict() if isinstance(r, InferenceResult) else dict(r) for r in results]
    if not rows:
        raise ValueError("no results to summarise")
    table = pl.DataFrame(rows, infer_schema_length=None)

    def reference(executor: str, column: str) -> pl.Expr:
        return pl.col(column).filter(pl.col("executor") == executor).first().over("workload")

    return table.with_columns(
        speedup_vs_single=reference("single", "time_s_median") / pl.col("time_s_median"),
        vs_floor=pl.col("time_s_median") / reference(FLOOR, "time_s_median"),
        matches_floor=pl.col("predictions_sha1") == reference(FLOOR, "predictions_sha1"),
    ).sort(["workload", "time_s_median"])


def _timed(func: Any, *args: Any, repeats: int = 5) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = func(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def measure_costs(model: Any, frame: pl.DataFrame, chunk_size: int) -> dict[str, float]:
    """What parallelism costs: pickling the model and a chunk, and starting one worker.

    Returns:
        Sizes in bytes and times in seconds: ``model_pickle_*``, ``chunk_pickle_*``,
        ``chunk_predict_s`` (the work one chunk carries, for scale) and
        ``process_worker_start_s`` (spawn a 1-process pool: interpreter, imports, model).
    """
    chunk = split_chunks(model.select_inputs(frame), chunk_size)[0]
    model_pickle_s, blob = _timed(pickle.dumps, model, pickle.HIGHEST_PROTOCOL)
    model_unpickle_s, _ = _timed(pickle.loads, blob)
    chunk_pickle_s, chunk_blob = _timed(pickle.dumps, chunk, pickle.HIGHEST_PROTOCOL)
    chunk_unpickle_s, _ = _timed(pickle.loads, chunk_blob)
    chunk_predict_s, _ = _timed(model.predict, chunk, repeats=3)
    start = time.perf_counter()
    with LocalExecutor("process", model, 1) as pool:
        pool.warm_up()
        worker_start_s = time.perf_counter() - start
    return {
        "model_pickle_bytes": float(len(blob)),
        "model_pickle_s": model_pickle_s,
        "model_unpickle_s": model_unpickle_s,
        "chunk_rows": float(chunk.height),
        "chunk_pickle_bytes": float(len(chunk_blob)),
        "chunk_pickle_s": chunk_pickle_s,
        "chunk_unpickle_s": chunk_unpickle_s,
        "chunk_predict_s": chunk_predict_s,
        "process_worker_start_s": worker_start_s,
    }


def plot_inference(table: pl.DataFrame) -> bytes:
    """Rows/s per executor, one panel per workload (log scale); PNG bytes."""
    from matplotlib.figure import Figure  # here: every process that loads the code imports this
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    workloads = sorted(table["workload"].unique().to_list())
    fig = Figure(figsize=(5 * len(workloads), 4))
    for i, workload in enumerate(workloads):
        ax = fig.add_subplot(1, len(workloads), i + 1)
        part = table.filter(pl.col("workload") == workload).sort("rows_per_s")
        labels = [f"{e} ({w}w)" for e, w in zip(part["executor"], part["workers"], strict=True)]
        colours = ["C2" if e == FLOOR else "C0" for e in part["executor"]]
        speeds = part["rows_per_s"].to_list()
        ax.barh(labels, speeds, color=colours)
        wide = max(speeds) > 20 * min(speeds)  # log only when bars span decades
        ax.set_xscale("log" if wide else "linear")
        ax.set_xlabel("rows/s (log)" if wide else "rows/s")
        if not wide:
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
        ax.set_title(TITLES.get(workload, f"{workload} workload"))
        ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.subplots_adjust(wspace=0.45)  # room for the second panel's executor labels
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _row(table: pl.DataFrame, workload: str, executor: str) -> dict[str, Any] | None:
    rows = table.filter((pl.col("workload") == workload) & (pl.col("executor") == executor))
    return rows.row(0, named=True) if rows.height else None


def _speed(row: dict[str, Any] | None) -> str:
    if row is None:
        return "not run"
    speedup = row["speedup_vs_single"]
    versus = "n/a" if speedup is None else f"{speedup:.2f}x"  # single not run yet
    return (
        f"{row['time_s_median']:.2f} s, {versus} single "
        f"with {row['workers']} workers, {row['cores_busy']:.1f} cores busy "
        f"(start-up {row['startup_s']:.2f} s)"
    )


def explain(table: pl.DataFrame, costs: dict[str, float]) -> str:
    """Two paragraphs that explain the measured table, with the numbers in them."""
    cpu = {e: _row(table, "cpu", e) for e in (FLOOR, "single", "thread", "process", "ray")}
    lat = {e: _row(table, "latency", e) for e in (FLOOR, "single", "thread", "process", "ray")}
    overhead = costs["chunk_pickle_s"] + costs["chunk_unpickle_s"]
    cpu_text = (
        "CPU-bound (the real model): tokenising with HashingVectorizer is Python code that "
        "holds the GIL, so threads cannot run it in parallel; only separate processes "
        "(a process pool or Ray workers) use more than one core. "
        f"Floor (one vectorised predict): {_speed(cpu[FLOOR]).split(',')[0]}. "
        f"Single: {_speed(cpu['single'])}. Thread: {_speed(cpu['thread'])}. "
        f"Process: {_speed(cpu['process'])}. Ray: {_speed(cpu['ray'])}. "
        f"What processes pay: the model pickles to {costs['model_pickle_bytes'] / 2**20:.1f} MiB "
        f"in {costs['model_pickle_s'] * 1e3:.1f} ms (unpickled once per worker in "
        f"{costs['model_unpickle_s'] * 1e3:.1f} ms); a chunk of {costs['chunk_rows']:.0f} rows "
        f"is {costs['chunk_pickle_bytes'] / 2**10:.0f} KiB and costs {overhead * 1e3:.2f} ms "
        f"to pickle and unpickle against {costs['chunk_predict_s'] * 1e3:.0f} ms to predict, "
        f"so shipping data is cheap here; starting a spawned worker (interpreter, imports, "
        f"model) takes {costs['process_worker_start_s']:.2f} s, paid once per pool. With 2 "
        "cores (shared with the driver process), the best possible speed-up is below 2x."
    )
    # a float column's max is a float (polars types it as any Python literal)
    load, cores = cast(float, table["machine_load"].max()), table["fp_cores"][0]
    if load > 0.75 * cores:
        cpu_text += (
            f" Caveat: the machine's load average reached {load:.1f} on {cores} cores during "
            "these runs (other jobs), so the CPU share the scheduler gave the workers, not the "
            "executor, capped the speed-ups: compare 'cores busy' (CPU seconds of the driver "
            "and its workers per wall second) with the worker count."
        )
    thread = cpu["thread"]
    if thread is not None and (thread["speedup_vs_single"] or 0) > 1.2:
        cpu_text += (
            f" Threads measured {thread['speedup_vs_single']:.2f}x here: part of predict "
            "(scipy sparse products, NumPy) releases the GIL, and on a machine busy with "
            "other processes the scheduler gives a process more CPU share per runnable thread."
        )
    single = lat["single"]
    waits = f"{single['chunks']} chunks x the call latency" if single else "one wait per chunk"
    lat_text = (
        "Latency-bound (a simulated remote model call per chunk): the work is waiting, and "
        f"a sleeping thread releases the GIL, so waits overlap. Single runs {waits}: "
        f"{_speed(single)}. Thread: {_speed(lat['thread'])}. Process: {_speed(lat['process'])}. "
        f"Ray: {_speed(lat['ray'])}. Threads reach close to N x with no start-up cost; "
        "processes and Ray overlap waits too but pay worker start-up and pickling for no CPU "
        "gain. The floor, one call for all rows, "
        f"({_speed(lat[FLOOR]).split(',')[0]}) shows that batching requests beats any executor "
        "when the remote side accepts large batches."
    )
    return cpu_text + "\n\n" + lat_text
