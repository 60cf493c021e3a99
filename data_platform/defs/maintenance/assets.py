"""`maintenance/lake_health`: one maintenance pass over every table, with its report.

The asset's materialisation is the report (what was compacted, expired and removed, and
the bytes saved); its checks say that no tagged snapshot was lost, no table reads other
rows than before (both read from the data files), and no file a snapshot needs is gone.
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
from pydantic import Field

from data_platform.defs.checks import check_result, metadata_value
from data_platform.defs.constants import OWNERS
from data_platform.defs.maintenance.checks import (
    live_files_present,
    row_counts_unchanged,
    tagged_snapshots_kept,
)
from data_platform.defs.resources import LakehouseResource, SettingsResource
from data_platform.lakehouse.maintenance import MaintenancePolicy, MaintenanceReport, maintain
from data_platform.storage import ObjectStore

LAKE_HEALTH = dg.AssetKey(["maintenance", "lake_health"])
CHECKS = {
    "tagged_snapshots_kept": tagged_snapshots_kept,
    "row_counts_unchanged": row_counts_unchanged,
    "live_files_present": live_files_present,
}


class MaintenanceConfig(dg.Config):
    """Retention and compaction thresholds of one maintenance pass."""

    dry_run: bool = Field(default=False, description="Report only; change nothing.")
    retain_last: int = Field(default=10, description="Keep the newest N snapshots of a table.")
    max_snapshot_age_days: float = Field(default=7.0, description="Keep younger snapshots.")
    orphan_min_age_hours: float = Field(
        default=24.0, description="Remove unreferenced files only when older than this."
    )
    compact_min_files: int = Field(
        default=8, description="Compact partitions with at least this many data files."
    )
    tables: list[str] = Field(default_factory=list, description="Tables; empty: all.")

    def policy(self) -> MaintenancePolicy:
        return MaintenancePolicy(
            retain_last=self.retain_last,
            max_snapshot_age=timedelta(days=self.max_snapshot_age_days),
            orphan_min_age=timedelta(hours=self.orphan_min_age_hours),
            compact_min_files=self.compact_min_files,
        )


@dg.asset(
    key=LAKE_HEALTH,
    group_name="maintenance",
    kinds={"iceberg", "s3"},
    owners=OWNERS,
    description="Compacts small files, expires old snapshots (tags kept), removes orphans.",
    check_specs=[dg.AssetCheckSpec(name, asset=LAKE_HEALTH) for name in CHECKS],
)
def lake_health(
    context: dg.AssetExecutionContext,
    config: MaintenanceConfig,
    lakehouse: LakehouseResource,
    platform: SettingsResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    store = ObjectStore.from_settings(platform.get_settings())
    report = maintain(
        lakehouse.get_lakehouse(),
        store,
        config.policy(),
        tables=config.tables or None,
        dry_run=config.dry_run,
    )
    context.log.info(f"maintenance: {report.summary()}")
    yield dg.MaterializeResult(metadata=report_metadata(report))
    for name, check in CHECKS.items():
        yield check_result(name, check(report))


def report_metadata(report: MaintenanceReport) -> dict[str, dg.MetadataValue]:
    """The summary as numbers, and one markdown row per table."""
    summary = report.summary()
    lines = ["| table | rows | compacted | expired | orphans | bytes saved |", "|---" * 6 + "|"]
    for entry in report.tables:
        lines.append(
            f"| {entry.table} | {entry.skipped or entry.rows_after} | "
            f"{', '.join(c.partition for c in entry.compacted) or '-'} | "
            f"{len(entry.expired.expired) if entry.expired else 0} | "
            f"{len(entry.orphans.removed) if entry.orphans else 0} | {entry.bytes_saved} |"
        )
    return {
        **{k: metadata_value(v) for k, v in summary.items()},
        "tables_report": dg.MetadataValue.md("\n".join(lines)),
    }
