"""`embedded/<dataset>`: each staged row's text as an all-MiniLM-L6-v2 vector.

Built for every dataset whose contract declares text columns (several are joined).

Vectors go to LanceDB in the same bucket (searchable, ANN index once large enough) and
to the Iceberg table `embedded.<dataset>`, so the lakehouse stays the source of truth and
LanceDB can be rebuilt from it. One partition per upload, like the layers it follows;
re-running a partition replaces its vectors. It follows `staged` automatically.
"""

from collections.abc import Iterator
from typing import Literal

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.contracts import Contract
from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.defs.checks import check_result
from data_platform.defs.config import LayerConfig
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.ingest.partitions import uploads_partitions
from data_platform.defs.metadata import write_metadata
from data_platform.defs.resources import LakehouseResource, SettingsResource
from data_platform.defs.resources.embedding import VectorStoreResource
from data_platform.embedding.checks import (
    partition_vector_count,
    recall_meets_target,
    vectors_finite_and_normalised,
)
from data_platform.embedding.model import embed_frame
from data_platform.ray.batches import embed_on_ray
from data_platform.ray.driver import ray_driver
from data_platform.ray.targets import ray_target

CHECKS = ("vector_count_matches_staged", "vectors_finite_and_normalised", "recall_at_10")


class EmbeddedConfig(LayerConfig):
    """Where the texts are embedded: this process, or Ray Data actors on a cluster."""

    executor: Literal["single", "ray"] = Field(
        default="single", description="single: this process; ray: actors on a Ray cluster"
    )
    ray_actors: int = Field(default=2, ge=1, description="Ray actors (a model loaded in each)")
    ray_address: str = Field(default="", description="Ray cluster; empty: DP_RAY_ADDRESS")


def build_embedded_asset(spec: Contract) -> dg.AssetsDefinition:
    key = spec.asset_key("embedded")
    filters = [c for c, t in spec.dtypes.items() if c == spec.label_column or t.is_temporal()]
    text_column = spec.text_column
    assert text_column is not None, "embedded assets are built for datasets with text"
    partitions = uploads_partitions(spec.name)

    @dg.asset(
        key=key,
        deps=[spec.asset_key("staged")],
        partitions_def=partitions,
        check_specs=[dg.AssetCheckSpec(name, asset=key) for name in CHECKS],
        automation_condition=dg.AutomationCondition.eager(),
        group_name="embedded",
        kinds={"lancedb", "iceberg", "pytorch"},
        owners=OWNERS,
        description=f"{spec.name}: {', '.join(spec.text)} embedded (384-d, normalised), "
        "searchable.",
        metadata={"dataset": spec.name, "iceberg_table": spec.table("embedded")},
    )
    def embedded(
        context: dg.AssetExecutionContext,
        config: EmbeddedConfig,
        lakehouse: LakehouseResource,
        vectors: VectorStoreResource,
        platform: SettingsResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        partition = context.partition_key
        lake = lakehouse.get_lakehouse()
        staged = lake.read_partition(
            spec.table("staged"),
            column=SOURCE_KEY,
            value=partition,
            snapshot_id=lake.resolve_snapshot(spec.table("staged"), config.as_of),
        )
        loaded = pl.from_arrow(staged.data)
        assert isinstance(loaded, pl.DataFrame)  # an Arrow table converts to a DataFrame
        rows = loaded.select(spec.id_column, spec.text_expr(), *filters, SOURCE_KEY)

        def progress(done: int, total: int) -> None:
            if total >= 2000 and done % max(total // 10, 1) < 64:
                context.log.info(f"embedded {done:,}/{total:,} texts")

        ran_on = "this process"
        if config.executor == "ray":
            address, token = ray_target(platform.get_settings(), config.ray_address)
            if not address:
                raise dg.Failure("executor ray needs a cluster: DP_RAY_ADDRESS or ray_address")
            with ray_driver(address, token):
                frame, nodes = embed_on_ray(rows, text_column, actors=config.ray_actors)
            ran_on = f"ray: {config.ray_actors} actors on {len(nodes)} node(s) of {address}"
        else:
            frame = embed_frame(
                rows, text_column, embedder=vectors.get_embedder(), progress=progress
            )
        frame = frame.with_columns(pl.lit(staged.snapshot_id, pl.Int64).alias(STAGED_SNAPSHOT_ID))
        store = vectors.get_store()
        store.replace_partition(spec.name, partition, frame, spec.id_column, text_column)
        index = store.ensure_index(spec.name)
        iceberg = frame.with_columns(pl.col("vector").cast(pl.List(pl.Float32)))
        lake.rename_former_columns(spec.table("embedded"))
        write = lake.overwrite_partition(
            spec.table("embedded"),
            iceberg.to_arrow(compat_level=pl.CompatLevel.oldest()),
            column=SOURCE_KEY,
            value=partition,
        )
        yield dg.MaterializeResult(
            metadata={
                **write_metadata(write, [staged], rows),
                "lancedb_table": f"{store.uri}/{spec.name}.lance",
                "index": f"{index.index_type} ({index.action}), recall {index.recall:.3f}",
                "executor": ran_on,
            }
        )
        outcomes = {
            "vector_count_matches_staged": partition_vector_count(
                store, spec.name, partition, rows.height
            ),
            "vectors_finite_and_normalised": vectors_finite_and_normalised(frame),
            "recall_at_10": recall_meets_target(store, spec.name),
        }
        for name, outcome in outcomes.items():
            yield check_result(name, outcome)

    return embedded
