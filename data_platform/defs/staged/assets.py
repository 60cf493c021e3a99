"""`staged/<dataset>`: typed and cleaned with polars, validated by a blocking Pandera check.

Write-audit-publish: a partition is written only when it passes. A failing partition is
not published (its old rows are removed), its upload is moved to quarantine, and the run
fails with a message naming the object, the rows and the columns.
"""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from data_platform.core.problems import summarise
from data_platform.core.staging import stage
from data_platform.datasets import DatasetSpec
from data_platform.defs.config import LayerConfig
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.metadata import write_metadata
from data_platform.defs.raw.assets import landing_key
from data_platform.defs.raw.partitions import partitions_for
from data_platform.defs.staged.checks import pandera_check_result, pandera_check_spec
from data_platform.resources import LakehouseResource, ObjectStoreResource


def build_staged_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey(["staged", spec.name])

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["raw", spec.name])],
        partitions_def=partitions_for(spec),
        check_specs=[pandera_check_spec(key, spec.schema, partitions_for(spec))],
        group_name="staged",
        kinds={"iceberg", "polars", "pandera"},
        owners=OWNERS,
        description=f"{spec.name}: typed, cleaned and validated ({spec.schema.__name__}).",
        metadata={"dataset": spec.name, "iceberg_table": spec.table("staged")},
    )
    def staged(
        context: dg.AssetExecutionContext,
        config: LayerConfig,
        store: ObjectStoreResource,
        lakehouse: LakehouseResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        partition = context.partition_key
        lake = lakehouse.get_lakehouse()
        raw = lake.read_partition(
            spec.table("raw"),
            column=SOURCE_KEY,
            value=partition,
            snapshot_id=lake.resolve_snapshot(spec.table("raw"), config.as_of),
        )
        result = stage(pl.from_arrow(raw.data), spec.schema, spec.text_column)
        source_key = landing_key(spec, store, partition)
        source = store.get_client().bucket + "/" + source_key
        check = pandera_check_result(key, f"s3://{source}", result.problems, result.frame.height)
        if not result.ok:
            lake.delete_partition(spec.table("staged"), column=SOURCE_KEY, value=partition)
            moved = "not found in landing (already moved?)"
            if store.get_client().exists(source_key):
                moved = store.quarantine(source_key, spec.name, partition, check.description)
            yield check
            raise dg.Failure(
                description=f"{summarise(f's3://{source}', result.problems)}. "
                f"Upload moved to {moved}; the partition was not published.",
                metadata={"quarantined_to": moved, "problem_count": len(result.problems)},
                allow_retries=False,
            )
        frame = result.frame.drop("_source_row")
        write = lake.overwrite_partition(
            spec.table("staged"),
            frame.to_arrow(compat_level=pl.CompatLevel.oldest()),
            column=SOURCE_KEY,
            value=partition,
        )
        yield dg.MaterializeResult(metadata=write_metadata(write, [raw], frame))
        yield check

    return staged
