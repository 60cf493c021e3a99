"""`benchmarks/formats`: save/load time, size and memory per format x library x size x target.

One static partition per case (backfill them all from the UI); each result row is kept
in the Iceberg table `benchmarks.formats`, partitioned by case id, so re-running a case
replaces its row. `benchmarks/formats_summary` turns the rows into plots and a table.
"""

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.benchmarks.cases import case_ids
from data_platform.benchmarks.format_runner import run_format_case
from data_platform.benchmarks.summary import (
    markdown_table,
    plot_load_vs_size,
    plot_save_load,
    results_table,
)
from data_platform.defs.constants import OWNERS
from data_platform.defs.metadata import image, write_metadata
from data_platform.defs.resources import LakehouseResource, ObjectStoreResource, SettingsResource

TABLE = "benchmarks.formats"
FORMAT_CASES = dg.StaticPartitionsDefinition(case_ids())


class FormatCaseConfig(dg.Config):
    repeats: int = Field(default=5, ge=5, description="timed rounds after the warm-up")
    measure_memory: bool = Field(default=True, description="peak RSS of a save and a load")


@dg.asset(
    key=["benchmarks", "formats"],
    partitions_def=FORMAT_CASES,
    group_name="benchmarks",
    kinds={"iceberg", "polars", "pandas", "pyarrow"},
    owners=OWNERS,
    description="One storage-format case: save/load time (min, median), size, peak memory.",
    metadata={"iceberg_table": TABLE},
)
def format_case(
    context: dg.AssetExecutionContext,
    config: FormatCaseConfig,
    platform: SettingsResource,
    lakehouse: LakehouseResource,
) -> dg.MaterializeResult:
    settings = platform.get_settings()
    workdir = settings.home_dir / "benchmarks"
    workdir.mkdir(parents=True, exist_ok=True)
    result = run_format_case(
        context.partition_key,
        workdir=workdir,
        settings=settings,
        repeats=config.repeats,
        measure_memory=config.measure_memory,
    )
    # memory may be unmeasured (None): give the columns their type so the table can hold them
    row = pl.DataFrame(
        [result.to_dict()],
        infer_schema_length=None,
        schema_overrides={"peak_save_bytes": pl.Int64, "peak_load_bytes": pl.Int64},
    )
    write = lakehouse.get_lakehouse().overwrite_partition(
        TABLE,
        row.to_arrow(compat_level=pl.CompatLevel.oldest()),
        column="case_id",
        value=context.partition_key,
    )
    context.log.info(
        f"{context.partition_key}: load {result.load_s_median:.4f}s ({result.load_cache}), "
        f"save {result.save_s_median:.4f}s, {result.file_bytes:,} B"
    )
    return dg.MaterializeResult(
        metadata={
            **write_metadata(write),
            "load_s_median": dg.MetadataValue.float(result.load_s_median),
            "save_s_median": dg.MetadataValue.float(result.save_s_median),
            "file_bytes": dg.MetadataValue.int(result.file_bytes),
            "load_cache": result.load_cache,
            "peak_load_bytes": dg.MetadataValue.int(result.peak_load_bytes or 0),
        }
    )


@dg.asset(
    key=["benchmarks", "formats_summary"],
    deps=[format_case],
    group_name="benchmarks",
    kinds={"iceberg", "matplotlib"},
    owners=OWNERS,
    description="All format cases as one table, with load-time-vs-size and save/load plots.",
)
def formats_summary(
    lakehouse: LakehouseResource, store: ObjectStoreResource
) -> dg.MaterializeResult:
    read = lakehouse.get_lakehouse().read(TABLE)
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)  # an Arrow table converts to a DataFrame
    table = results_table(frame.to_dicts())
    scatter, bars = plot_load_vs_size(table), plot_save_load(table)
    client = store.get_client()
    client.put_bytes("benchmarks/plots/formats_load_vs_size.png", scatter, content_type="image/png")
    client.put_bytes("benchmarks/plots/formats_save_load.png", bars, content_type="image/png")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(table.height),
            "input_snapshots": dg.MetadataValue.json({TABLE: str(read.snapshot_id)}),
            "load_time_vs_size": image(scatter, "load time vs file size"),
            "save_and_load": image(bars, "save and load time"),
            "results": dg.MetadataValue.md(markdown_table(table)),
            "plots_in_bucket": f"s3://{client.bucket}/benchmarks/plots/",
        }
    )
