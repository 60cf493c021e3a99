"""Keep the lake healthy: compact small files, expire old snapshots, remove orphan files.

`maintain(lake, store, policy)` runs the three steps on every table (compaction first, so
the files it replaces become unreferenced once their snapshots expire; orphan removal
last, so it deletes what expiry unreferenced). Snapshots that a tag or branch names are
never expired. Each step reports what it removed and the bytes saved; a dry run reports
what it would do and changes nothing.

What the steps must not change is measured by reading, not by the manifests (whose record
counts stay the same when a data file is gone): each table's current rows and each tag's
rows are read before and after (a count and a digest, `Lakehouse.digest`), and after the
pass every file the metadata reaches must still be in the store. That costs a full read of
the current and tagged rows twice per pass; it is what shows orphan removal deleting a live
file. A table that cannot be read before is left alone, and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyiceberg.table import Table

from data_platform.lakehouse.compaction import (
    CompactedPartition,
    compact_partition,
    compaction_candidates,
    planned,
)
from data_platform.lakehouse.orphans import (
    DEFAULT_MIN_AGE,
    OrphanReport,
    live_files,
    remove_orphan_files,
    split_uri,
)
from data_platform.lakehouse.tables import Lakehouse
from data_platform.storage import ObjectStore


@dataclass(frozen=True)
class MaintenancePolicy:
    """How much history to keep and what counts as small files.

    A snapshot is kept when a tag or branch names it, when it is among the newest
    `retain_last`, or when it is younger than `max_snapshot_age`; None turns a rule off.
    """

    retain_last: int | None = 10
    max_snapshot_age: timedelta | None = timedelta(days=7)
    orphan_min_age: timedelta = DEFAULT_MIN_AGE
    compact_min_files: int = 8
    compact_max_avg_bytes: int = 32 * 1024 * 1024
    # a partition whose delete files (upserts) remove this share of its rows is rewritten
    compact_deleted_share: float = 0.1


@dataclass(frozen=True)
class ExpireReport:
    """Snapshots expired from one table's metadata, and the refs that protected others."""

    table: str
    expired: tuple[int, ...]
    kept: int
    refs: dict[str, int]


@dataclass(frozen=True)
class RowsRead:
    """The rows of a table or snapshot as read from its data files, or why they could not be."""

    rows: int | None = None
    digest: str | None = None
    error: str | None = None

    def same_as(self, other: RowsRead | None) -> bool:
        """Both read, and the same rows (count and digest)."""
        return (
            other is not None
            and self.error is None
            and other.error is None
            and (self.rows, self.digest) == (other.rows, other.digest)
        )

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class TableReport:
    """Everything maintenance did to one table, with the facts its checks compare.

    `skipped` says why a table was left alone (its rows could not be read before the pass:
    nothing to compare with); then `after` and the `*_after` facts stay empty.
    """

    table: str
    before: RowsRead
    after: RowsRead | None = None
    tags_before: dict[str, int] = field(default_factory=dict)
    tags_after: dict[str, int] = field(default_factory=dict)
    tag_rows_before: dict[str, RowsRead] = field(default_factory=dict)
    tag_rows_after: dict[str, RowsRead] = field(default_factory=dict)
    missing_files: tuple[str, ...] = ()
    skipped: str | None = None
    compacted: list[CompactedPartition] = field(default_factory=list)
    expired: ExpireReport | None = None
    orphans: OrphanReport | None = None

    @property
    def rows_before(self) -> int:
        """Rows read before the pass; -1 when they could not be read."""
        return -1 if self.before.rows is None else self.before.rows

    @property
    def rows_after(self) -> int:
        """Rows read after the pass; -1 when they could not be read (or the table was skipped)."""
        return -1 if self.after is None or self.after.rows is None else self.after.rows

    @property
    def bytes_saved(self) -> int:
        return self.orphans.bytes_removed if self.orphans else 0


@dataclass
class MaintenanceReport:
    """The report of one maintenance pass over the lake."""

    dry_run: bool
    tables: list[TableReport] = field(default_factory=list)

    @property
    def bytes_saved(self) -> int:
        return sum(t.bytes_saved for t in self.tables)

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "tables": len(self.tables),
            "partitions_compacted": sum(len(t.compacted) for t in self.tables),
            "snapshots_expired": sum(len(t.expired.expired) for t in self.tables if t.expired),
            "orphan_files_removed": sum(len(t.orphans.removed) for t in self.tables if t.orphans),
            "bytes_saved": self.bytes_saved,
        }


def snapshots_to_expire(table: Table, policy: MaintenancePolicy, now: datetime) -> list[int]:
    """Ids of the snapshots the policy lets go: unreferenced, beyond count and age."""
    protected = {ref.snapshot_id for ref in table.metadata.refs.values()}
    newest_first = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms, reverse=True)
    retained = newest_first[: policy.retain_last] if policy.retain_last is not None else []
    keep = protected | {s.snapshot_id for s in retained}
    cutoff_ms = (
        int((now - policy.max_snapshot_age).timestamp() * 1000)
        if policy.max_snapshot_age is not None
        else None
    )
    return [
        s.snapshot_id
        for s in newest_first
        if s.snapshot_id not in keep and (cutoff_ms is None or s.timestamp_ms < cutoff_ms)
    ]


def expire_snapshots(
    table: Table, policy: MaintenancePolicy, *, dry_run: bool = False, now: datetime | None = None
) -> ExpireReport:
    """Remove old snapshots from the metadata (files go with orphan removal); never a ref's."""
    table.refresh()  # the refs as committed now: a tag made a moment ago is protected too
    doomed = snapshots_to_expire(table, policy, now or datetime.now(UTC))
    if doomed and not dry_run:
        table.maintenance.expire_snapshots().by_ids(doomed).commit()
        table.refresh()
    return ExpireReport(
        table=".".join(table.name()[-2:]),
        expired=tuple(doomed),
        kept=len(table.metadata.snapshots) - (len(doomed) if dry_run else 0),
        refs={name: ref.snapshot_id for name, ref in table.metadata.refs.items()},
    )


def maintain(
    lake: Lakehouse,
    store: ObjectStore,
    policy: MaintenancePolicy | None = None,
    *,
    tables: list[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> MaintenanceReport:
    """Compact, expire and clean every table (or `tables`); see the module docstring.

    Args:
        lake: The lakehouse whose tables to maintain.
        store: A storage client on the lake's store (for listing and deleting files).
        policy: Retention and compaction thresholds; `MaintenancePolicy()` by default.
        tables: Table names (`layer.name`); default every table of the catalog.
        dry_run: Report only; commit and delete nothing.
        now: The clock (tests).
    """
    policy = policy or MaintenancePolicy()
    now = now or datetime.now(UTC)
    report = MaintenanceReport(dry_run=dry_run)
    for name in tables or lake.tables():
        table = lake.load(name)
        if table is None:
            raise LookupError(f"table {name} does not exist")
        entry = TableReport(table=name, before=read_rows(lake, name))
        entry.tags_before, entry.tag_rows_before = _tags(lake, name, table)
        unreadable = [
            f"{label}: {read.error}"
            for label, read in [("current", entry.before), *entry.tag_rows_before.items()]
            if read.error is not None
        ]
        if unreadable:
            entry.skipped = "unreadable before maintenance, left alone: " + "; ".join(unreadable)
            report.tables.append(entry)
            continue
        candidates = compaction_candidates(
            table,
            min_files=policy.compact_min_files,
            max_avg_bytes=policy.compact_max_avg_bytes,
            max_deleted=policy.compact_deleted_share,
        )
        for partition in candidates:
            done = planned(table, partition) if dry_run else compact_partition(table, partition)
            entry.compacted.append(done)
        entry.expired = expire_snapshots(table, policy, dry_run=dry_run, now=now)
        entry.orphans = remove_orphan_files(
            table,
            store,
            older_than=policy.orphan_min_age,
            dry_run=dry_run,
            without_snapshots=entry.expired.expired if dry_run else (),
            now=now,
        )
        table.refresh()
        entry.after = read_rows(lake, name)
        entry.tags_after, entry.tag_rows_after = _tags(lake, name, table)
        entry.missing_files = missing_live_files(table, store)
        report.tables.append(entry)
    return report


def read_rows(lake: Lakehouse, table: str, snapshot_id: int | None = None) -> RowsRead:
    """Read every row of `table` (at `snapshot_id`): its count and digest, or the error."""
    try:
        rows, digest = lake.digest(table, snapshot_id=snapshot_id)
    except Exception as exc:  # noqa: BLE001 - failing to read, in any way, is the finding
        return RowsRead(error=f"{type(exc).__name__}: {exc}")
    return RowsRead(rows, digest)


def missing_live_files(table: Table, store: ObjectStore) -> tuple[str, ...]:
    """Files under the table's location that its metadata reaches but the store lacks.

    Covers the retained snapshots that no tag names (their rows are not read): a file that
    orphan removal deleted by mistake shows here. Files outside the location (added from
    elsewhere) are not orphan removal's to delete, and are not listed.
    """
    bucket, prefix = split_uri(table.location().rstrip("/") + "/")
    client = store.for_bucket(bucket) if bucket != store.bucket else store
    present = {info.key for info in client.list(prefix, recursive=True)}
    wanted = (split_uri(uri) for uri in live_files(table))
    return tuple(
        sorted(
            f"s3://{b}/{key}"
            for b, key in wanted
            if b == bucket and key.startswith(prefix) and key not in present
        )
    )


def _tags(lake: Lakehouse, name: str, table: Table) -> tuple[dict[str, int], dict[str, RowsRead]]:
    """{tag: snapshot id} and {tag: its rows as read}; a tag whose snapshot is gone reads
    as an error."""
    tags = {n: r.snapshot_id for n, r in table.metadata.refs.items() if n != "main"}
    rows = {
        tag: read_rows(lake, name, sid)
        if table.snapshot_by_id(sid) is not None
        else RowsRead(error=f"snapshot {sid} is gone from the metadata")
        for tag, sid in tags.items()
    }
    return tags, rows
