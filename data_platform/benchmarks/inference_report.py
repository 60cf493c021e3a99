"""Inference benchmark summary: the table with speed-ups, measured overheads, a plot, a text."""

from __future__ import annotations

import io
import pickle
import statistics
import time
from collections.abc import Iterable
from typing import Any, cast

import polars as pl

from data_platform.benchmarks.inference_bench import FLOOR, InferenceResult
from data_platform.inference.executors import FORK, LocalExecutor, split_chunks

# the workloads' plot titles ("seed" is the course's workload: a fixed wait per batch)
TITLES = {
    "cpu": "CPU-bound workload (the real model)",
    "latency": "latency-bound workload (a wait per chunk)",
    "seed": "seed workload (2 ms per 2,048-row batch)",
}
NAMES = {
    FLOOR: "Floor",
    "single": "Single",
    "thread": "Thread",
    "process": "Process",
    FORK: "Process (fork)",
    "ray": "Ray",
}
POOLED = ("single", "thread", "process", FORK, "ray")  # chunked: the floor is not
SEPARATE = ("process", FORK, "ray")  # each worker its own interpreter
# below this a speed-up is not told apart from the run-to-run spread on a shared machine
HELPED = 1.15
CHEAP = 0.05  # shipping a chunk is cheap below this share of the time to predict it


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


def _measured(rows: dict[str, dict[str, Any] | None], floor: str) -> str:
    """Each executor's numbers, in a fixed order ("not run" where absent; the forked pool,
    a variant, only when it ran)."""
    shown = [e for e in POOLED if e != FORK or rows[e] is not None]
    speeds = " ".join(f"{NAMES[e]}: {_speed(rows[e])}." for e in shown)
    return f"Floor ({floor}): {_speed(rows[FLOOR]).split(',')[0]}. {speeds}"


def _speedup(row: dict[str, Any]) -> float:
    return float(row["speedup_vs_single"] or float("nan"))


def _fastest(rows: dict[str, dict[str, Any] | None]) -> str:
    """Which executor won, by how much over single and over the runner-up."""
    ran = sorted(
        ((e, r) for e, r in rows.items() if r is not None and e != FLOOR),
        key=lambda item: item[1]["time_s_median"],
    )
    if len(ran) < 2:
        return ""
    (best, row), (second, other) = ran[0], ran[1]
    margin = other["time_s_median"] / row["time_s_median"]
    if best == "single":
        return (
            f"No executor beat single: the closest, {NAMES[second]}, took {margin:.2f}x "
            "single's time. "
        )
    return (
        f"Fastest: {NAMES[best]}, {_speedup(row):.2f}x single with {row['workers']} workers, "
        f"{margin:.2f}x ahead of {NAMES[second]}. "
    )


def _floor_versus(rows: dict[str, dict[str, Any] | None], what: str, lesson: str) -> str:
    """Whether one call over all rows (the floor) beat every executor, and by how much."""
    floor = rows[FLOOR]
    ran = [r for e, r in rows.items() if r is not None and e != FLOOR]
    if floor is None or not ran:
        return ""
    best = min(ran, key=lambda r: r["time_s_median"])
    ratio = best["time_s_median"] / floor["time_s_median"]
    if ratio > 1:
        return (
            f"The floor, {what} ({floor['time_s_median']:.2f} s), beat every executor: "
            f"the best, {NAMES[best['executor']]}, took {ratio:.2f}x as long; {lesson}. "
        )
    return (
        f"{NAMES[best['executor']]} beat the floor, {what} "
        f"({floor['time_s_median']:.2f} s), by {1 / ratio:.2f}x. "
    )


def _cpu_paragraph(table: pl.DataFrame, costs: dict[str, float]) -> str:
    rows = {e: _row(table, "cpu", e) for e in (FLOOR, *POOLED)}
    floor = "one vectorised predict over all rows"
    text = f"CPU-bound (the real model). {_measured(rows, floor)} {_fastest(rows)}"
    thread = rows["thread"]
    if thread is not None:
        speedup, busy = _speedup(thread), thread["cores_busy"]
        if speedup >= HELPED:
            text += (
                f"Threads helped ({speedup:.2f}x, {busy:.1f} cores busy): part of predict "
                "(scipy sparse products, NumPy) runs outside the GIL, so the thread pool used "
                "more than one core. "
            )
        else:
            text += f"Threads did not help ({speedup:.2f}x single, {busy:.1f} cores busy)" + (
                ": tokenising is Python code that holds the GIL, so the threads took turns "
                "on one core. "
                if busy < 1.3
                else ": the threads kept more than one core busy without finishing sooner. "
            )
    separate = {e: rows[e] for e in SEPARATE if rows[e] is not None}
    listed = ", ".join(
        f"{NAMES[e]} {_speedup(r):.2f}x ({r['cores_busy']:.1f} cores busy)"
        for e, r in separate.items()
        if r is not None
    )
    if any(_speedup(r) >= HELPED for r in separate.values() if r is not None):
        text += f"Separate processes used more than one core: {listed}. "
    elif separate:
        text += f"Parallelism across processes did not help: {listed}. "
    cores = int(table["fp_cores"][0])
    text += f"With {cores} cores, shared with the driver, no executor can pass {cores}x. "
    overhead = costs["chunk_pickle_s"] + costs["chunk_unpickle_s"]
    share = overhead / costs["chunk_predict_s"] if costs["chunk_predict_s"] > 0 else float("inf")
    shipping = (
        f"cheap here ({share:.1%} of the {costs['chunk_predict_s'] * 1e3:.0f} ms it takes to "
        "predict it)"
        if share < CHEAP
        else f"not cheap here: {share:.0%} of the {costs['chunk_predict_s'] * 1e3:.0f} ms it "
        "takes to predict it, paid on top by every process-based executor"
    )
    text += (
        f"What processes pay: the model pickles to {costs['model_pickle_bytes'] / 2**20:.1f} MiB "
        f"in {costs['model_pickle_s'] * 1e3:.1f} ms (unpickled once per worker in "
        f"{costs['model_unpickle_s'] * 1e3:.1f} ms); a chunk of {costs['chunk_rows']:.0f} rows "
        f"is {costs['chunk_pickle_bytes'] / 2**10:.0f} KiB and costs {overhead * 1e3:.2f} ms "
        f"to pickle and unpickle, so shipping data is {shipping}; starting a spawned worker "
        f"(interpreter, imports, model) takes {costs['process_worker_start_s']:.2f} s, paid "
        "once per pool"
    )
    process, single = rows["process"], rows["single"]
    if process is not None and single is not None:
        saved = single["time_s_median"] - process["time_s_median"]
        if saved <= 0:
            text += ", for a pool that saves nothing per run"
        elif process["startup_s"] > saved:
            text += (
                f": the process pool's start-up ({process['startup_s']:.2f} s) is more than it "
                f"saves per run ({saved:.2f} s), so it pays off only when reused"
            )
    text += ". " + _floor_versus(rows, floor, "chunking costs more than it gains here")
    # a float column's max is a float (polars types it as any Python literal)
    load = cast(float, table["machine_load"].max())
    if load > 0.75 * cores:
        text += (
            f"Caveat: the machine's load average reached {load:.1f} on {cores} cores during "
            "these runs (other jobs), so the CPU share the scheduler gave the workers, not the "
            "executor, capped the speed-ups: compare 'cores busy' (CPU seconds of the driver "
            "and its workers per wall second) with the worker count."
        )
    return text.strip()


def _latency_paragraph(table: pl.DataFrame) -> str:
    rows = {e: _row(table, "latency", e) for e in (FLOOR, *POOLED)}
    single = rows["single"]
    waits = f"{single['chunks']} chunks x the call latency" if single else "one wait per chunk"
    floor = "one call for all rows"
    text = (
        "Latency-bound (a simulated remote model call per chunk; single waits "
        f"{waits}). {_measured(rows, floor)} {_fastest(rows)}"
    )
    thread = rows["thread"]
    if thread is not None:
        speedup = _speedup(thread)
        ideal = min(thread["workers"], thread["chunks"])
        detail = (
            f"{speedup:.2f}x single with {thread['workers']} workers, of at most {ideal}x "
            f"({thread['chunks']} waits), start-up {thread['startup_s']:.2f} s"
        )
        if speedup >= 0.7 * ideal:
            text += f"Threads overlapped the waits: {detail}. "
        elif speedup >= HELPED:
            text += f"Threads overlapped the waits only in part: {detail}. "
        else:
            text += f"Threads did not overlap the waits: {detail}. "
        separate = {e: r for e in SEPARATE if (r := rows[e]) is not None}
        slower = [e for e, r in separate.items() if r["time_s_median"] >= thread["time_s_median"]]
        if separate and len(slower) == len(separate):
            text += (
                "Separate processes were no faster than threads ("
                + ", ".join(f"{NAMES[e]} {_speedup(r):.2f}x" for e, r in separate.items())
                + "): waiting needs no second core, and they pay worker start-up and "
                "pickling. "
            )
        elif separate:
            text += (
                "Faster than threads: "
                + ", ".join(
                    f"{NAMES[e]} ({thread['time_s_median'] / r['time_s_median']:.2f}x)"
                    for e, r in separate.items()
                    if e not in slower
                )
                + ". "
            )
    text += _floor_versus(
        rows, floor, "batching requests beats any executor when the remote side accepts them"
    )
    return text.strip()


def explain(table: pl.DataFrame, costs: dict[str, float]) -> str:
    """Two paragraphs that explain the measured table: every verdict in them (who won, by
    how much, whether threads or processes helped, whether shipping data is cheap, whether
    batching beat every executor) follows from the numbers given."""
    return _cpu_paragraph(table, costs) + "\n\n" + _latency_paragraph(table)
