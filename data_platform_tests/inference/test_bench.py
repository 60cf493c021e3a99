"""The executor benchmark: case ids, complete rows, speed-ups, costs, plot and text."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from data_platform.benchmarks.inference_bench import (
    FLOOR,
    InferenceCase,
    inference_cases,
    parse_inference_case_id,
    run_inference_case,
)
from data_platform.benchmarks.inference_report import (
    explain,
    inference_table,
    measure_costs,
    plot_inference,
)
from data_platform.inference.model import TabularModel


def test_case_ids_are_partition_keys_and_round_trip() -> None:
    cases = inference_cases(cpu_workers=2, latency_workers=8)
    ids = [case.case_id for case in cases]
    assert dg.StaticPartitionsDefinition(ids).get_partition_keys() == ids
    assert "cpu|process|2w|10k" in ids
    assert "latency|thread|8w|10k" in ids
    assert all(parse_inference_case_id(i) == c for i, c in zip(ids, cases, strict=True))
    with pytest.raises(ValueError, match="workers=1"):
        InferenceCase("cpu", "single", 4)


def test_benchmark_rows_table_and_explanation(model: TabularModel, unseen: pl.DataFrame) -> None:
    cases = [
        c
        for c in inference_cases(cpu_workers=2, latency_workers=4, chunk_size=500)
        if c.executor in (FLOOR, "single", "thread")
    ]
    results = [run_inference_case(case, model, unseen, repeats=1, latency_s=0.01) for case in cases]
    table = inference_table(results)
    assert table.height == 6
    assert table["fp_versions"].str.contains("scikit-learn=").all()
    assert table["matches_floor"].all()
    # CPU time has clock-tick resolution (10 ms): only the CPU-bound rows are surely > 0
    # Ray's workers are children of its raylet, not of this process: their CPU is not seen
    local_cpu = table.filter((pl.col("workload") == "cpu") & (pl.col("executor") != "ray"))
    assert (local_cpu["cores_busy"] > 0).all()
    assert (table["cores_busy"] >= 0).all()
    assert (table["machine_load"] >= 0).all()
    single = table.filter(pl.col("executor") == "single")
    assert single["speedup_vs_single"].to_list() == [1.0, 1.0]
    latency_threads = table.filter(
        (pl.col("workload") == "latency") & (pl.col("executor") == "thread")
    ).row(0, named=True)
    assert latency_threads["chunks"] == 5
    assert latency_threads["speedup_vs_single"] > 1.5  # 5 waits of 10 ms overlap on 4 threads

    assert plot_inference(table).startswith(b"\x89PNG\r\n\x1a\n")
    costs = measure_costs(model, unseen, 500)
    assert costs["model_pickle_bytes"] > 100_000
    assert costs["process_worker_start_s"] > costs["chunk_pickle_s"] > 0
    text = explain(table, costs)
    cpu_thread = table.filter((pl.col("workload") == "cpu") & (pl.col("executor") == "thread"))
    speedup = cpu_thread["speedup_vs_single"][0]
    helped = "Threads helped" if speedup >= 1.15 else "Threads did not help"
    assert f"{helped} ({speedup:.2f}x" in text  # the verdict follows the measured speed-up
    assert f"{latency_threads['speedup_vs_single']:.2f}x single with 4 workers" in text
    assert "MiB" in text
    assert "Process: not run" in text
