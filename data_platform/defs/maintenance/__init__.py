"""The `maintenance` job, its (stopped) nightly schedule, and its asset and checks."""

from __future__ import annotations

import dagster as dg

from data_platform.defs.maintenance.assets import LAKE_HEALTH, MaintenanceConfig, lake_health

MAINTENANCE_JOB = "maintenance"
MAINTENANCE_CRON = "0 3 * * *"  # 03:00 UTC, when nothing else writes


def build_maintenance_defs() -> dg.Definitions:
    """The maintenance asset, job and schedule; merge into the platform's Definitions.

    The schedule starts STOPPED: turn it on in the UI (or `dagster schedule start`) once
    the retention in `MaintenanceConfig` suits the deployment. Resources come from the
    definitions it is merged into (`lakehouse`, `platform`).
    """
    job = dg.define_asset_job(
        MAINTENANCE_JOB,
        selection=dg.AssetSelection.assets(LAKE_HEALTH),
        description="Compact small files, expire old snapshots (keeping tags), remove orphans.",
    )
    schedule = dg.ScheduleDefinition(
        name=f"{MAINTENANCE_JOB}_schedule",
        job=job,
        cron_schedule=MAINTENANCE_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    return dg.Definitions(assets=[lake_health], jobs=[job], schedules=[schedule])


__all__ = ["MAINTENANCE_JOB", "MaintenanceConfig", "build_maintenance_defs"]


@dg.definitions
def maintenance_defs() -> dg.Definitions:
    """Loaded with the defs folder (see data_platform/definitions.py)."""
    return build_maintenance_defs()
