"""What a maintenance pass must not change: tagged snapshots, rows, and the files they need.

Each check compares what was read from the data files before and after the pass (rows and
a digest: `maintain` reads them; the manifests' record counts would stay the same with a
data file gone). A table the pass left alone because it could not be read before has
nothing to compare: the check says so as a warning, naming the table and the reason,
rather than passing.
"""

from __future__ import annotations

from typing import Any

from data_platform.check_outcome import CheckOutcome
from data_platform.lakehouse.maintenance import MaintenanceReport, RowsRead

MAX_LISTED = 20  # missing files named per table in the metadata


def tagged_snapshots_kept(report: MaintenanceReport) -> CheckOutcome:
    """Every tag still names the same snapshot, and that snapshot reads the same rows."""
    lost: dict[str, Any] = {}
    for entry in report.tables:
        if entry.skipped:
            continue
        for tag, snapshot_id in entry.tags_before.items():
            after = entry.tags_after.get(tag)
            rows_before = entry.tag_rows_before[tag]
            rows_after = entry.tag_rows_after.get(tag)
            if after != snapshot_id or not rows_before.same_as(rows_after):
                lost[f"{entry.table}@{tag}"] = {
                    "snapshot_before": str(snapshot_id),
                    "snapshot_after": str(after),
                    "rows_before": rows_before.as_metadata(),
                    "rows_after": (rows_after or RowsRead(error="tag gone")).as_metadata(),
                }
    tags = sum(len(e.tags_before) for e in report.tables if not e.skipped)
    return _verdict(
        report,
        lost,
        f"{tags - len(lost)} of {tags} tags name the same snapshot and read the same rows",
        {"tags_checked": tags, "tags_lost": lost},
    )


def row_counts_unchanged(report: MaintenanceReport) -> CheckOutcome:
    """Each table reads as many rows, with the same digest, after as before; and each
    compacted partition holds as many rows."""
    changed: dict[str, Any] = {}
    for entry in report.tables:
        if entry.skipped:
            continue
        if not entry.before.same_as(entry.after):
            changed[entry.table] = {
                "before": entry.before.as_metadata(),
                "after": (entry.after or RowsRead(error="not read")).as_metadata(),
            }
        for part in entry.compacted:
            if part.rows_before != part.rows_after:
                changed[f"{entry.table}/{part.partition}"] = {
                    "before": part.rows_before,
                    "after": part.rows_after,
                }
    checked = [e for e in report.tables if not e.skipped]
    return _verdict(
        report,
        changed,
        f"{len(changed)} of {len(checked)} tables (or partitions) read different rows after",
        {
            "tables_checked": len(checked),
            "rows_read": sum(max(e.rows_after, 0) for e in checked),
            "changed": changed,
        },
    )


def live_files_present(report: MaintenanceReport) -> CheckOutcome:
    """Every file a remaining snapshot needs is still in the store (a file orphan removal
    deleted by mistake, also of a snapshot no tag names and whose rows are not read)."""
    missing = {
        e.table: {"count": len(e.missing_files), "files": list(e.missing_files[:MAX_LISTED])}
        for e in report.tables
        if e.missing_files and not e.skipped
    }
    checked = sum(1 for e in report.tables if not e.skipped)
    return _verdict(
        report,
        missing,
        f"{len(missing)} of {checked} tables lack files their snapshots need",
        {"tables_checked": checked, "missing": missing},
    )


def _verdict(
    report: MaintenanceReport, failed: dict[str, Any], description: str, metadata: dict[str, Any]
) -> CheckOutcome:
    """Failed if anything measured moved; a warning if some table could not be measured."""
    unmeasured = {e.table: e.skipped for e in report.tables if e.skipped}
    if unmeasured:
        metadata = {**metadata, "unmeasured": unmeasured}
    if failed:
        return CheckOutcome(False, description, metadata)
    if unmeasured:
        return CheckOutcome(
            False,
            f"could not measure {len(unmeasured)} of {len(report.tables)} tables "
            f"(unreadable before the pass); {description}",
            metadata,
            severity="warn",
        )
    return CheckOutcome(True, description, metadata)
