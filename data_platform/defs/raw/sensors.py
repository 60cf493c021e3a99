"""The landing sensor: new or changed uploads become partitions and runs.

The store is listed on each tick (SeaweedFS has no bucket notifications, and listing is
what a Dagster sensor does anyway). The cursor maps each landing key to the ETag last
requested, so a re-upload with new content re-runs only that partition, and a deleted
object simply drops out of the cursor.
"""

import json

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from data_platform.datasets import DatasetSpec
from data_platform.defs.raw.partitions import partitions_for
from data_platform.resources import ObjectStoreResource
from data_platform.storage import StorageError

SENSOR_INTERVAL_S = 15


def landing_changes(
    spec: DatasetSpec, store: ObjectStoreResource, cursor: str | None
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(partition key, ETag) of new or changed uploads, and the next cursor."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    prefix = spec.landing_prefix(store.platform.get_settings().landing_prefix)
    current = {
        obj.key.removeprefix(prefix): obj.etag
        for obj in store.get_client().list(prefix, recursive=True)
        if not obj.key.endswith("/")  # folder markers are not uploads
    }
    changed = sorted((k, etag) for k, etag in current.items() if seen.get(k) != etag)
    return changed, current


def build_landing_sensor(
    spec: DatasetSpec, job: UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    partitions = partitions_for(spec)

    @dg.sensor(
        name=f"{spec.name}_landing_sensor",
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Ingests each new or changed object under landing/{spec.name}/.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, store: ObjectStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        try:
            changed, cursor = landing_changes(spec, store, context.cursor)
        except StorageError as exc:
            return dg.SkipReason(f"cannot list the landing prefix: {exc}")
        if not changed:
            return dg.SkipReason(f"no new uploads under landing/{spec.name}/")
        existing = set(context.instance.get_dynamic_partitions(partitions.name))
        new_keys = [k for k, _ in changed if k not in existing]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{key}@{etag}",
                    partition_key=key,
                    tags={"data_platform/etag": etag, "data_platform/dataset": spec.name},
                )
                for key, etag in changed
            ],
            dynamic_partitions_requests=[partitions.build_add_request(new_keys)]
            if new_keys
            else [],
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return landing_sensor
