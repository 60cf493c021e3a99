"""`datasets migrate`: rebuild a dataset's tables under a contract Iceberg cannot apply in
place, from the uploads the platform keeps (the archive), through the ingest job.

The old tables are tagged `before-migrate` and renamed aside (`<layer>.<name>__v<old
version>`): their snapshots and tags keep reading the old data with the old schema. The
dataset's upload partitions that still have their object (archive, or landing) are
ingested again in batches (a run over each range of consecutive partitions, at most
`DP_INGEST_BATCH_FILES` uploads, as the sensor asks for them), then whatever waits in
landing as new. Uploads the new rules refuse go to quarantine with their reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from data_platform.contracts import Contract
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.evolution import contract_changes
from data_platform.ingest.landing import Custody, pending_uploads
from data_platform.lakehouse import Lakehouse, open_lakehouse
from data_platform.ops.runner import (
    RunOutcome,
    execute_request,
    ingest_landing,
    prepare_dagster_home,
)
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

LAYERS = ("raw", "staged", "transformed", "history")
TAG = "before-migrate"


@dataclass
class MigrationReport:
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> before, after
    kept_aside: dict[str, str] = field(default_factory=dict)  # table -> where it went
    refused: int = 0
    runs: list[RunOutcome] = field(default_factory=list)


def migrate_dataset(
    settings: Settings,
    contract: Contract,
    *,
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[str], None] = print,
) -> MigrationReport | None:
    """Rebuild `contract`'s tables; None when they already agree with it."""
    lake = open_lakehouse(settings)
    if not any(t.needs_migration for t in contract_changes(contract, lake)):
        return None
    report = MigrationReport()
    for layer in LAYERS:
        table = contract.table(layer)
        loaded = lake.load(table)
        if loaded is None:
            continue
        before = lake.count(table)
        old = loaded.properties.get("data-platform.contract.version", "0")
        aside = _aside(lake, table, old)
        lake.tag(TAG, [table])
        lake.catalog.rename_table(tuple(table.split(".")), tuple(aside.split(".")))
        report.kept_aside[table] = aside
        report.rows[table] = (before, 0)
        progress(f"{table}: {before:,} rows, tagged {TAG}, kept aside as {aside}")
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[contract])
    own = instance is None
    instance = instance or dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    try:
        report.runs = _reingest(settings, contract, defs, instance, progress)
        report.runs += ingest_landing(defs, instance, [contract])  # new ones waiting
    finally:
        if own:
            instance.dispose()
    report.refused = sum(not r.success for r in report.runs)
    for table, (before, _) in list(report.rows.items()):
        after = lake.count(table) if lake.load(table) is not None else 0
        report.rows[table] = (before, after)
    return report


def _aside(lake: Lakehouse, table: str, version: str) -> str:
    """A free name for the old table: `<layer>.<name>__v<version>` (then _2, _3, ...)."""
    base = f"{table}__v{version}"
    name, n = base, 1
    while lake.load(name) is not None:
        n += 1
        name = f"{base}_{n}"
    return name


def _reingest(
    settings: Settings,
    contract: Contract,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None],
) -> list[RunOutcome]:
    """Every upload partition whose object is kept (archive or landing), in range runs."""
    store = ObjectStore.from_settings(settings)
    custody = Custody(store, settings)
    kept = {
        partition
        for root in (custody.archive, custody.landing)
        for partition in pending_uploads(store, f"{root}{contract.name}/")
    }
    keys = list(instance.get_dynamic_partitions(f"{contract.name}_uploads"))
    job = defs.resolve_job_def(f"ingest_{contract.name}")
    outcomes: list[RunOutcome] = []
    ranges = _ranges(keys, kept, settings.ingest_batch_files)
    for number, (first, last) in enumerate(ranges, 1):
        request = dg.RunRequest(
            run_key=None,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: first,
                ASSET_PARTITION_RANGE_END_TAG: last,
                "data_platform/dataset": contract.name,
                "data_platform/migration": str(contract.version),
            },
        )
        if first == last:
            request = dg.RunRequest(
                partition_key=first, tags={"data_platform/dataset": contract.name}
            )
        outcomes += execute_request(job, instance, contract.name, request)
        done = sum(o.success for o in outcomes)
        progress(f"batch {number}/{len(ranges)}: {len(outcomes):,} uploads, {done:,} published")
    return outcomes


def _ranges(keys: list[str], kept: set[str], most: int) -> list[tuple[str, str]]:
    """Runs of consecutive `keys` that are all in `kept`, at most `most` long."""
    ranges: list[tuple[str, str]] = []
    run: list[str] = []
    for key in [*keys, None]:
        if key is not None and key in kept and len(run) < most:
            run.append(key)
            continue
        if run:
            ranges.append((run[0], run[-1]))
        run = [key] if key is not None and key in kept else []
    return ranges


__all__ = ["MigrationReport", "migrate_dataset"]
