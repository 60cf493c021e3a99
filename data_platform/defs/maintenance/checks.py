"""What a maintenance pass must not change: tagged snapshots and the rows of every table."""

from __future__ import annotations

from data_platform.core.checks import CheckOutcome
from data_platform.lakehouse.maintenance import MaintenanceReport


def tagged_snapshots_kept(report: MaintenanceReport) -> CheckOutcome:
    """Every tag still names the same snapshot, and that snapshot reads the same rows."""
    lost = {}
    for entry in report.tables:
        for tag, snapshot_id in entry.tags_before.items():
            after = entry.tags_after.get(tag)
            rows_before = entry.tag_rows_before.get(tag)
            rows_after = entry.tag_rows_after.get(tag)
            if after != snapshot_id or rows_after != rows_before or rows_after == -1:
                lost[f"{entry.table}@{tag}"] = {
                    "snapshot_before": str(snapshot_id),
                    "snapshot_after": str(after),
                    "rows_before": rows_before,
                    "rows_after": rows_after,
                }
    tags = sum(len(e.tags_before) for e in report.tables)
    return CheckOutcome(
        not lost,
        f"{tags - len(lost)} of {tags} tags name the same snapshot and rows",
        {"tags_checked": tags, "tags_lost": lost},
    )


def row_counts_unchanged(report: MaintenanceReport) -> CheckOutcome:
    """Each table, and each compacted partition, has as many rows after as before."""
    changed = {
        entry.table: {"before": entry.rows_before, "after": entry.rows_after}
        for entry in report.tables
        if entry.rows_before != entry.rows_after
    }
    for entry in report.tables:
        for part in entry.compacted:
            if part.rows_before != part.rows_after:
                changed[f"{entry.table}/{part.partition}"] = {
                    "before": part.rows_before,
                    "after": part.rows_after,
                }
    rows = sum(e.rows_after for e in report.tables)
    return CheckOutcome(
        not changed,
        f"{len(changed)} of {len(report.tables)} tables (or partitions) changed row count",
        {"tables_checked": len(report.tables), "rows": rows, "changed": changed},
    )
