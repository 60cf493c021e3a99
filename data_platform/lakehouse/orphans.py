"""Orphan files: objects under a table's location that no live snapshot or metadata names.

Failed or concurrent writes, and snapshots expired from the metadata (pyiceberg's expiry
edits metadata only), leave files that nothing reads. They are found by listing the table
location with the storage client and subtracting every file reachable from the table
metadata; only files older than a safety age are removed, so a write in flight (whose
files exist before its commit does) is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from pyiceberg.table import Table

from data_platform.storage import ObjectStore

DEFAULT_MIN_AGE = timedelta(days=1)


@dataclass(frozen=True)
class RemovedFile:
    """One object removed (or, in a dry run, that would be)."""

    key: str
    size: int
    last_modified: datetime | None


@dataclass(frozen=True)
class OrphanReport:
    """The orphans of one table's location."""

    table: str
    location: str
    scanned: int
    live: int
    removed: tuple[RemovedFile, ...]
    dry_run: bool

    @property
    def bytes_removed(self) -> int:
        return sum(f.size for f in self.removed)


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` -> ('bucket', 'a/b')."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def live_files(table: Table, without_snapshots: Iterable[int] = ()) -> set[str]:
    """URIs of every file the table's metadata reaches, for the snapshots that remain.

    Args:
        table: The loaded table.
        without_snapshots: Snapshots to treat as already expired (a dry run's what-if).
    """
    gone = set(without_snapshots)
    metadata = table.metadata
    live = {table.metadata_location, *(e.metadata_file for e in metadata.metadata_log)}
    live |= {s.statistics_path for s in metadata.statistics}
    live |= {s.statistics_path for s in metadata.partition_statistics}
    seen_manifests: set[str] = set()
    for snapshot in metadata.snapshots:
        if snapshot.snapshot_id in gone:
            continue
        live.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            live.add(manifest.manifest_path)
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            live |= {entry.data_file.file_path for entry in entries}
    return live


def remove_orphan_files(
    table: Table,
    store: ObjectStore,
    *,
    older_than: timedelta = DEFAULT_MIN_AGE,
    dry_run: bool = False,
    without_snapshots: Iterable[int] = (),
    now: datetime | None = None,
) -> OrphanReport:
    """Delete the files under the table's location that no live metadata references.

    Args:
        table: The loaded table.
        store: A storage client; its bucket is switched to the table location's bucket.
        older_than: Only files last modified longer ago than this are removed.
        dry_run: Report what would be removed, remove nothing.
        without_snapshots: Snapshots to count as expired (used by a dry run).
        now: The clock (tests).
    """
    bucket, prefix = split_uri(table.location().rstrip("/") + "/")
    client = store.for_bucket(bucket) if bucket != store.bucket else store
    reachable = {split_uri(uri) for uri in live_files(table, without_snapshots)}
    cutoff = (now or datetime.now(UTC)) - older_than
    orphans, scanned = [], 0
    for info in client.list(prefix, recursive=True):
        scanned += 1
        if (bucket, info.key) in reachable:
            continue
        if info.last_modified is None or info.last_modified > cutoff:
            continue  # too young: may belong to a commit in flight
        orphans.append(RemovedFile(info.key, info.size, info.last_modified))
    if orphans and not dry_run:
        client.delete_many(f.key for f in orphans)
    return OrphanReport(
        table=".".join(table.name()[-2:]),
        location=table.location(),
        scanned=scanned,
        live=len(reachable),
        removed=tuple(orphans),
        dry_run=dry_run,
    )
