"""The landing sensor: new uploads become partitions, asked for in batches, one run each.

Landing holds only uploads not yet ingested (ingestion moves them to the archive or to
quarantine), so a tick lists what is pending, not every upload ever made. The tick plans
batches (`landing.plan_batches`): new uploads, oldest first, become partitions added in
one request and a run over their range (a single-run backfill of the multi-asset); a
re-upload of a known partition is a run of its own. Batches, runs per tick and uploads in
flight are bounded, so is the cursor, whatever the backlog. A store that cannot be listed
fails the tick (`StorageError`), never passes for an empty landing.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from data_platform.contracts import Contract
from data_platform.defs.ingest.failures import DATASET_TAG, last_failure
from data_platform.defs.ingest.partitions import uploads_partitions
from data_platform.defs.resources import ObjectStoreResource
from data_platform.ingest.landing import Batch, BatchLimits, pending_uploads, plan_batches
from data_platform.settings import Settings

BATCH_TAG = "data_platform/batch"
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def batch_limits(settings: Settings) -> BatchLimits:
    return BatchLimits(
        batch_files=settings.ingest_batch_files,
        batch_mb=settings.ingest_batch_mb,
        max_runs=settings.landing_max_runs_per_tick,
        max_in_flight=settings.landing_max_in_flight,
        retry_after_s=settings.landing_retry_after_s,
    )


def run_request(batch: Batch, dataset: str) -> dg.RunRequest:
    """One run for the batch: a range of new partitions, or one known partition."""
    tags = {BATCH_TAG: batch.id, DATASET_TAG: dataset}
    first, last = batch.uploads[0], batch.uploads[-1]
    if len(batch.uploads) == 1:
        return dg.RunRequest(
            run_key=batch.run_key,
            partition_key=first.partition,
            tags={**tags, "data_platform/etag": first.etag},
        )
    return dg.RunRequest(
        run_key=batch.run_key,
        tags={
            **tags,
            ASSET_PARTITION_RANGE_START_TAG: first.partition,
            ASSET_PARTITION_RANGE_END_TAG: last.partition,
            "data_platform/uploads": str(len(batch.uploads)),
        },
    )


def build_landing_sensor(
    contract: Contract, job: UnresolvedAssetJobDefinition, interval_s: int
) -> dg.SensorDefinition:
    """`interval_s`: the daemon's minimum interval between ticks (setting
    `landing_sensor_interval_s`, `DP_LANDING_SENSOR_INTERVAL_S`)."""
    partitions = uploads_partitions(contract.name)
    assert partitions.name is not None  # uploads_partitions names them
    name = partitions.name

    @dg.sensor(
        name=f"{contract.name}_landing_sensor",
        job=job,
        minimum_interval_seconds=interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Ingests new uploads under landing/{contract.name}/, in batches.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, store: ObjectStoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        settings = store.platform.get_settings()
        prefix = contract.landing_prefix(settings.landing_prefix)
        instance = context.instance

        def known(keys: list[str]) -> set[str]:
            return set(instance.get_existing_dynamic_partitions(name, keys))  # one query

        def running(batch_id: str) -> bool:
            runs = instance.get_run_records(
                dg.RunsFilter(tags={BATCH_TAG: batch_id}, statuses=UNFINISHED), limit=1
            )
            return bool(runs)

        # a listing that fails raises: the tick fails (Dagster shows it, with the store's
        # message) and the cursor stays, so the next tick lists again; a skip here would
        # read as "nothing new" while uploads wait
        pending = pending_uploads(store.get_client(), prefix)
        plan = plan_batches(
            pending,
            context.cursor,
            limits=batch_limits(settings),
            known=known,
            running=running,
            contract=contract.fingerprint,
        )
        if plan.expired:
            context.log.warning(
                f"{len(plan.expired)} batch(es) whose uploads are still in landing (their runs "
                f"ended without moving them) asked for again: the contract changed, or "
                f"{settings.landing_retry_after_s}s passed"
            )
        if not plan.batches:
            context.update_cursor(plan.cursor)
            waiting = ""
            if plan.pending:
                waiting = f"; {plan.pending:,} upload(s) pending, {plan.in_flight:,} being ingested"
                failed = last_failure(instance, contract.name)
                if failed:  # why they wait, on the sensor's tick in the UI
                    waiting += (
                        f"; the last run failed ({failed}): they are asked for again when the "
                        f"contract changes or after {settings.landing_retry_after_s}s"
                    )
            return dg.SkipReason(f"no new uploads under {prefix}{waiting}")
        new_keys = [p for batch in plan.batches if batch.new for p in batch.partitions]
        return dg.SensorResult(
            run_requests=[run_request(batch, contract.name) for batch in plan.batches],
            dynamic_partitions_requests=[partitions.build_add_request(new_keys)]
            if new_keys
            else [],
            cursor=plan.cursor,
        )

    return landing_sensor
