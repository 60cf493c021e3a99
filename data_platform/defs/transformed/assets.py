"""`transformed/<dataset>`: training-ready features for models and inference."""

import dagster as dg
import polars as pl

from data_platform.core.features import build_features
from data_platform.datasets import DatasetSpec
from data_platform.defs.config import LayerConfig
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.metadata import write_metadata
from data_platform.defs.raw.partitions import partitions_for
from data_platform.resources import LakehouseResource


def build_transformed_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=["transformed", spec.name],
        deps=[dg.AssetKey(["staged", spec.name])],
        partitions_def=partitions_for(spec),
        group_name="transformed",
        kinds={"iceberg", "polars"},
        owners=OWNERS,
        description=f"{spec.name}: cleaned text, label and numeric features for training.",
        metadata={"dataset": spec.name, "iceberg_table": spec.table("transformed")},
    )
    def transformed(
        context: dg.AssetExecutionContext, config: LayerConfig, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        lake = lakehouse.get_lakehouse()
        staged = lake.read_partition(
            spec.table("staged"),
            column=SOURCE_KEY,
            value=context.partition_key,
            snapshot_id=lake.resolve_snapshot(spec.table("staged"), config.as_of),
        )
        features = build_features(pl.from_arrow(staged.data), spec)
        write = lake.overwrite_partition(
            spec.table("transformed"),
            features.to_arrow(compat_level=pl.CompatLevel.oldest()),
            column=SOURCE_KEY,
            value=context.partition_key,
        )
        return dg.MaterializeResult(metadata=write_metadata(write, [staged], features))

    return transformed
