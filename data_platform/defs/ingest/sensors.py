"""The landing sensor: each new upload version becomes a partition and a run.

Landing holds only uploads not yet ingested (ingestion moves them to the archive or to
quarantine), so a tick lists what is pending, not every upload ever made, and the cursor
holds only the pending versions already asked for (`landing.watch`). A store that cannot
be listed fails the tick (`StorageError`), never passes for an empty landing.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from data_platform.contracts import Contract
from data_platform.defs.ingest.partitions import uploads_partitions
from data_platform.defs.resources import ObjectStoreResource
from data_platform.ingest.landing import changes_since, pending_uploads


def build_landing_sensor(
    contract: Contract, job: UnresolvedAssetJobDefinition, interval_s: int
) -> dg.SensorDefinition:
    """`interval_s`: the daemon's minimum interval between ticks (setting
    `landing_sensor_interval_s`, `DP_LANDING_SENSOR_INTERVAL_S`)."""
    partitions = uploads_partitions(contract.name)

    @dg.sensor(
        name=f"{contract.name}_landing_sensor",
        job=job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Ingests each new upload version under landing/{contract.name}/.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, store: ObjectStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        settings = store.platform.get_settings()
        prefix = contract.landing_prefix(settings.landing_prefix)
        # a listing that fails raises: the tick fails (Dagster shows it, with the store's
        # message) and the cursor stays, so the next tick lists again; a skip here would
        # read as "nothing new" while uploads wait
        pending = pending_uploads(store.get_client(), prefix)
        changed, cursor = changes_since(pending, context.cursor)
        if not changed:
            context.update_cursor(cursor)
            waiting = f"; {len(pending)} upload(s) still being ingested" if pending else ""
            return dg.SkipReason(f"no new uploads under {prefix}{waiting}")
        assert partitions.name is not None  # uploads_partitions names them
        existing = set(context.instance.get_dynamic_partitions(partitions.name))
        new_keys = sorted({c.partition for c in changed} - existing)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=change.run_key,
                    partition_key=change.partition,
                    tags={
                        "data_platform/etag": change.etag,
                        "data_platform/dataset": contract.name,
                    },
                )
                for change in changed
            ],
            dynamic_partitions_requests=[partitions.build_add_request(new_keys)]
            if new_keys
            else [],
            cursor=cursor,
        )

    return landing_sensor
