"""Running the platform's jobs in this process, without a daemon.

`ingest_landing` evaluates each dataset's landing sensor until landing is drained and
executes every run (batch) it asks for, with one outcome per upload; `materialize` runs a
selection of assets. The demo, `data-platform ingest` and
the tests go through the same sensors, jobs and assets as `dagster dev`, and record their
runs in the same Dagster instance. Landing holds only uploads not yet ingested (ingestion
moves them out), so what the daemon's sensor finds afterwards is only what is still new.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from data_platform.contracts import Contract
from data_platform.defs.ingest.checks import CHECK_NAME as SCHEMA_VALID
from data_platform.settings import Settings

# as `dagster dev` is started (ops/stack/dagster_dev.py: DAGSTER_ENV): one planned event per
# asset for a batch run, not one per upload; read by Dagster where a run is created
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")

# the run's events still go to the instance (and the UI); the terminal shows a summary,
# not Dagster's log lines (a refused upload's ERROR line carries a stack trace)
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class RunOutcome:
    """One upload's outcome (or one run's, for runs of no partition): what it was for,
    whether it succeeded, its check results per asset."""

    dataset: str
    partition: str
    success: bool
    # asset -> [passed, failed, not measured]: a check that could not measure fails at WARN
    # with a `skipped_reason` (defs/labeling/checks.py); it is counted apart, not as failed
    checks: dict[str, list[int]] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0  # wall time of the run, in this process (a batch's: shared)
    quarantined_to: str | None = None  # the refused upload's quarantine key
    run_id: str = ""

    @property
    def checks_passed(self) -> int:
        return sum(counts[0] for counts in self.checks.values())

    @property
    def checks_failed(self) -> int:
        return sum(counts[1] for counts in self.checks.values())


@dataclass
class DemoReport:
    runs: list[RunOutcome] = field(default_factory=list)

    def checks(self, asset: str) -> tuple[int, int, int]:
        """(passed, failed, not measured) evaluations of `asset`'s checks over every run."""
        counts = [r.checks[asset] for r in self.runs if asset in r.checks]
        return (
            sum(c[0] for c in counts),
            sum(c[1] for c in counts),
            sum(c[2] for c in counts),
        )


def prepare_dagster_home(settings: Settings, template: Path = Path("dagster.yaml")) -> Path:
    """`<home>/dagster_home` with the repo's dagster.yaml (SQLite storage by default)."""
    home = settings.home_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    return home


def ingest_landing(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    specs: Sequence[Contract],
    on_run: Callable[[RunOutcome], None] = lambda _: None,
    max_ticks: int = 1000,
) -> list[RunOutcome]:
    """Each dataset's landing sensor, tick after tick, with every batch it asks for run in
    process, until it asks for nothing more; one outcome per upload.

    The first tick starts from no cursor: every upload still in landing is pending (a run
    that failed for a passing reason left its upload there), so each is run now. Later
    ticks carry the cursor, so a backlog larger than the sensor's bounds drains batch by
    batch, as the daemon would run it; an upload its run left in landing (a failure) is
    not asked for again.
    """
    outcomes = []
    resources = defs.resources or {}
    for spec in specs:
        sensor = defs.resolve_sensor_def(f"{spec.name}_landing_sensor")
        job = defs.resolve_job_def(f"ingest_{spec.name}")
        cursor: str | None = None
        for _ in range(max_ticks):
            with dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"store": resources["store"]},
                definitions=defs,
            ) as context:
                result = sensor(context)
                cursor = context.cursor
            if not isinstance(result, dg.SensorResult) or not result.run_requests:
                break
            cursor = result.cursor or cursor
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys or [])
                )
            for run in result.run_requests:
                for outcome in execute_request(job, instance, spec.name, run):
                    outcomes.append(outcome)
                    on_run(outcome)
    return outcomes


def materialize(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[dg.AssetKey],
    *,
    label: str,
    partition_key: str | None = None,
) -> RunOutcome:
    """Materialise `keys` (and their checks) in one in-process run."""
    job = defs.resolve_implicit_global_asset_job_def()
    started = time.monotonic()
    result = job.execute_in_process(
        run_config=QUIET,
        instance=instance,
        asset_selection=keys,
        partition_key=partition_key,
        raise_on_error=False,
    )
    return _outcome(result, label, partition_key or "", time.monotonic() - started)


def execute_request(
    job: dg.JobDefinition, instance: dg.DagsterInstance, dataset: str, run: dg.RunRequest
) -> list[RunOutcome]:
    """The run a sensor asked for (one upload, or a batch over a range): one outcome per
    upload, from its own check evaluation and materializations."""
    tags = {**run.tags, "dagster/run_key": run.run_key or ""}
    started = time.monotonic()
    result = job.execute_in_process(
        run_config=QUIET,
        partition_key=run.partition_key,
        instance=instance,
        tags=tags,
        raise_on_error=False,
    )
    seconds = time.monotonic() - started
    whole = _outcome(result, dataset, run.partition_key or "", seconds)
    if run.partition_key is not None:
        return [whole]
    key_range = run.partition_key_range
    assert key_range is not None  # the sensor asks for one partition or a range
    partitions = _partitions_between(instance, job, key_range.start, key_range.end)
    return [_upload_outcome(result, whole, p) for p in partitions]


def _partitions_between(
    instance: dg.DagsterInstance, job: dg.JobDefinition, start: str, end: str
) -> list[str]:
    definition = job.partitions_def
    assert isinstance(definition, dg.DynamicPartitionsDefinition)
    assert definition.name
    keys = instance.get_dynamic_partitions(definition.name)
    return list(keys[keys.index(start) : keys.index(end) + 1])


def _upload_outcome(
    result: dg.ExecuteInProcessResult, whole: RunOutcome, partition: str
) -> RunOutcome:
    """One upload of a batch run: its verdict, or the run's failure if it got none."""
    checks: dict[str, list[int]] = {}
    verdict = None
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.partition != partition:
            continue
        if evaluation.check_name == SCHEMA_VALID:  # the verdict (drift only warns, or
            verdict = evaluation  # refuses through it)
        counts = checks.setdefault(evaluation.asset_key.to_user_string(), [0, 0, 0])
        counts[0 if evaluation.passed else 1] += 1
    if verdict is None:  # the run failed before deciding this upload
        return RunOutcome(
            whole.dataset,
            partition,
            False,
            {},
            whole.error or "run failed",
            whole.seconds,
            run_id=whole.run_id,
        )
    moved = verdict.metadata.get("quarantined_to")
    error = None if verdict.passed else verdict.description or "refused"
    quarantined = str(moved.value) if moved is not None and moved.value != "-" else None
    published = verdict.passed and any(
        e.partition == partition for e in result.get_asset_materialization_events()
    )
    return RunOutcome(
        whole.dataset,
        partition,
        published,
        checks,
        error,
        whole.seconds,
        quarantined,
        run_id=whole.run_id,
    )


def _outcome(
    result: dg.ExecuteInProcessResult, name: str, partition: str, seconds: float
) -> RunOutcome:
    checks: dict[str, list[int]] = {}
    for evaluation in result.get_asset_check_evaluations():
        counts = checks.setdefault(evaluation.asset_key.to_user_string(), [0, 0, 0])
        unmeasured = not evaluation.passed and "skipped_reason" in evaluation.metadata
        counts[2 if unmeasured else 0 if evaluation.passed else 1] += 1
    failure = quarantined = None
    if not result.success:
        failures = [e.step_failure_data for e in result.all_events if e.is_step_failure]
        first = failures[0] if failures else None
        failure = first.error.message if first and first.error else "run failed"
        metadata = first.user_failure_data.metadata if first and first.user_failure_data else {}
        moved = metadata.get("quarantined_to")
        quarantined = str(moved.value) if moved is not None and moved.value != "-" else None
    return RunOutcome(
        name, partition, result.success, checks, failure, seconds, quarantined, result.run_id
    )
