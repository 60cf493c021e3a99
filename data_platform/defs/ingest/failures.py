"""Why a dataset's uploads wait in landing: the error of its latest ingest run, if it failed.

The landing sensor says it in its skip message (the UI shows it on the sensor's ticks) and
`datasets show` prints it, so an upload that waits for a fixed contract says why.
"""

from __future__ import annotations

import dagster as dg

DATASET_TAG = "data_platform/dataset"


def last_failure(instance: dg.DagsterInstance, dataset: str) -> str | None:
    """`run <id>: <error>` of the dataset's latest ingest run when that run failed."""
    runs = instance.get_run_records(dg.RunsFilter(tags={DATASET_TAG: dataset}), limit=1)
    if not runs or runs[0].dagster_run.status != dg.DagsterRunStatus.FAILURE:
        return None
    run = runs[0].dagster_run
    for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = event.dagster_event.step_failure_data if event.dagster_event else None
        if data and data.error:
            lines = data.error.message.strip().splitlines()
            return f"run {run.run_id[:8]}: {lines[-1] if lines else 'failed'}"
    return f"run {run.run_id[:8]} failed"
