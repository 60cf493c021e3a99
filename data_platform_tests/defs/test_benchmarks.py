"""Benchmark assets: result rows kept in Iceberg, summaries with plots attached."""

from __future__ import annotations

import base64

import dagster as dg
import polars as pl
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _png(markdown: str) -> bytes:
    return base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")"))


def _run(defs, instance, key: list[str], partition: str | None = None, config: dict | None = None):
    job = defs.resolve_implicit_global_asset_job_def()
    op = "__".join(key)
    run_config = {"ops": {op: {"config": config}}} if config else None
    return job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(key)],
        partition_key=partition,
        run_config=run_config,
    )


def test_format_cases_and_summary(defs, instance, settings):
    quick = {"repeats": 5, "measure_memory": False}
    for case in ("parquet-zstd|polars|100k|local", "csv|pyarrow|100k|s3"):
        assert _run(defs, instance, ["benchmarks", "formats"], case, quick).success
    assert _run(defs, instance, ["benchmarks", "formats"], "csv|pyarrow|100k|s3", quick).success
    rows = pl.from_arrow(Lakehouse(open_catalog(settings)).read("benchmarks.formats").data)
    assert sorted(rows["case_id"]) == ["csv|pyarrow|100k|s3", "parquet-zstd|polars|100k|local"]
    assert rows["load_s_median"].min() > 0
    assert rows["file_bytes"].min() > 0
    assert rows["fp_cores"].min() >= 1  # the hardware and library fingerprint in every row
    assert rows["fp_versions"].null_count() == 0
    assert _run(defs, instance, ["benchmarks", "formats_summary"]).success
    meta = instance.get_latest_materialization_event(
        dg.AssetKey(["benchmarks", "formats_summary"])
    ).asset_materialization.metadata
    assert _png(meta["load_time_vs_size"].value).startswith(b"\x89PNG")
    assert "parquet-zstd" in meta["results"].value


def test_inference_cases_and_summary(defs, instance, settings, store):
    spec = sample_contract("reviews")
    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 800, seed=1))
    ingest_landing(defs, instance, (spec,))
    for case in ("cpu|vectorised|1w|10k", "cpu|single|1w|10k", "cpu|thread|2w|10k"):
        assert _run(defs, instance, ["benchmarks", "inference"], case, {"repeats": 1}).success
    assert _run(defs, instance, ["benchmarks", "inference_summary"]).success
    meta = instance.get_latest_materialization_event(
        dg.AssetKey(["benchmarks", "inference_summary"])
    ).asset_materialization.metadata
    assert meta["identical_predictions"].value is True
    assert _png(meta["rows_per_second"].value).startswith(b"\x89PNG")
    assert "thread" in meta["explanation"].value
