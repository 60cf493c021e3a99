"""`benchmarks/inference`: the executors on a CPU-bound and a latency-bound workload.

One static partition per case (workload x executor, plus the vectorised floor); result
rows go to `benchmarks.inference`. The workload is generated sample reviews (`rows` of
them, deterministic), the same data on every machine, whatever the lake holds. The summary
reports time, rows/s and speed-up vs single, the measured pickling and start-up costs, and
why each executor wins where it does.
"""

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.benchmarks.inference_bench import inference_cases, run_inference_case
from data_platform.benchmarks.inference_report import (
    explain,
    inference_table,
    measure_costs,
    plot_inference,
)
from data_platform.defs.constants import OWNERS
from data_platform.defs.metadata import image, write_metadata
from data_platform.defs.resources import LakehouseResource, SettingsResource
from data_platform.inference.model import train_model
from data_platform.synthetic import generate_reviews, review_model_spec

TABLE = "benchmarks.inference"
INFERENCE_CASES = dg.StaticPartitionsDefinition([c.case_id for c in inference_cases()])


class InferenceBenchConfig(dg.Config):
    repeats: int = Field(default=3, ge=1, description="timed runs after the warm-up")
    rows: int = Field(default=20_000, ge=100, description="generated reviews to predict")
    ray_address: str = Field(default="", description="Ray cluster address; empty: local Ray")


@dg.asset(
    key=["benchmarks", "inference"],
    partitions_def=INFERENCE_CASES,
    group_name="benchmarks",
    kinds={"iceberg", "scikit-learn", "ray"},
    owners=OWNERS,
    description="One inference case: executor x workload, time, rows/s, predictions digest.",
    metadata={"iceberg_table": TABLE},
)
def inference_case(
    context: dg.AssetExecutionContext,
    config: InferenceBenchConfig,
    platform: SettingsResource,
    lakehouse: LakehouseResource,
) -> dg.MaterializeResult:
    lake = lakehouse.get_lakehouse()
    frame = generate_reviews(config.rows, seed=1)
    result = run_inference_case(
        context.partition_key,
        train_model(frame, review_model_spec()),
        frame,
        repeats=config.repeats,
        ray_address=config.ray_address or None,
        ray_temp_dir=platform.get_settings().home_dir / "ray",
    )
    row = pl.DataFrame([result.to_dict()], infer_schema_length=None)
    write = lake.overwrite_partition(
        TABLE,
        row.to_arrow(compat_level=pl.CompatLevel.oldest()),
        column="case_id",
        value=context.partition_key,
    )
    return dg.MaterializeResult(
        metadata={
            **write_metadata(write),
            "time_s_median": dg.MetadataValue.float(result.time_s_median),
            "rows_per_s": dg.MetadataValue.float(result.rows_per_s),
            "predictions_sha1": result.predictions_sha1,
        }
    )


@dg.asset(
    key=["benchmarks", "inference_summary"],
    deps=[inference_case],
    group_name="benchmarks",
    kinds={"iceberg", "matplotlib"},
    owners=OWNERS,
    description="Executors compared: speed-up vs single, costs, and why each wins where it does.",
)
def inference_summary(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    lake = lakehouse.get_lakehouse()
    read = lake.read(TABLE)
    rows = pl.from_arrow(read.data)
    assert isinstance(rows, pl.DataFrame)  # an Arrow table converts to a DataFrame
    table = inference_table(rows.to_dicts())
    frame = generate_reviews(20_000, seed=1)
    costs = measure_costs(train_model(frame, review_model_spec()), frame, chunk_size=2000)
    digests = table.group_by("workload").agg(pl.col("predictions_sha1").n_unique())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(table.height),
            "identical_predictions": bool((digests["predictions_sha1"] == 1).all()),
            "rows_per_second": image(plot_inference(table), "rows per second by executor"),
            "explanation": dg.MetadataValue.md(explain(table, costs)),
            "costs": dg.MetadataValue.json({k: round(v, 6) for k, v in costs.items()}),
            "input_snapshots": dg.MetadataValue.json({TABLE: str(read.snapshot_id)}),
        }
    )
