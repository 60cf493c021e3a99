"""`raw/<dataset>`: each uploaded object, stored as uploaded, one partition per object."""

from datetime import UTC, datetime

import dagster as dg
import polars as pl

from data_platform.core.ingest import read_upload
from data_platform.core.problems import UploadError
from data_platform.datasets import DatasetSpec
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.metadata import write_metadata
from data_platform.defs.raw.partitions import partitions_for
from data_platform.resources import LakehouseResource, ObjectStoreResource


def landing_key(spec: DatasetSpec, store: ObjectStoreResource, partition_key: str) -> str:
    return spec.landing_prefix(store.platform.get_settings().landing_prefix) + partition_key


def build_raw_asset(spec: DatasetSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", spec.name],
        partitions_def=partitions_for(spec),
        group_name="raw",
        kinds={"iceberg", "polars", "s3"},
        owners=OWNERS,
        description=f"{spec.name}: every upload as uploaded (text columns, source key, ETag).",
        metadata={"dataset": spec.name, "iceberg_table": spec.table("raw")},
    )
    def raw(
        context: dg.AssetExecutionContext, store: ObjectStoreResource, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        partition = context.partition_key
        key = landing_key(spec, store, partition)
        client = store.get_client()
        info = client.stat(key)
        try:
            frame = read_upload(client.get_bytes(key), key)
        except UploadError as exc:
            where = store.quarantine(key, spec.name, partition, str(exc))
            raise dg.Failure(
                description=f"{client.bucket}/{exc}. Moved to s3://{client.bucket}/{where}",
                metadata={"object": key, "quarantined_to": where, "etag": info.etag},
                allow_retries=False,
            ) from None
        frame = frame.with_columns(
            pl.lit(partition).alias(SOURCE_KEY),
            pl.lit("\x1f".join(frame.columns)).alias("_source_columns"),
            pl.lit(info.etag).alias("_source_etag"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_source_row"),
            pl.lit(datetime.now(UTC)).cast(pl.Datetime("us", "UTC")).alias("_ingested_at"),
        )
        write = lakehouse.get_lakehouse().overwrite_partition(
            spec.table("raw"),
            frame.to_arrow(compat_level=pl.CompatLevel.oldest()),
            column=SOURCE_KEY,
            value=partition,
        )
        context.log.info(f"ingested {frame.height} rows from s3://{client.bucket}/{key}")
        return dg.MaterializeResult(
            metadata={
                **write_metadata(write, frame=frame),
                "source_object": f"s3://{client.bucket}/{key}",
                "source_etag": info.etag,
                "source_bytes": dg.MetadataValue.int(info.size),
            }
        )

    return raw
