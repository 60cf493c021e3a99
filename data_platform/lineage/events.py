"""Materialisation records of one asset, looked up by partition or by the snapshot they wrote.

Every layer records `snapshot_id` (the Iceberg snapshot it committed) and `input_snapshots`
({table: snapshot id}) in its materialisation metadata; these helpers read them back from
the event log. Dagster has no index on metadata values, so a lookup by snapshot scans the
asset's materialisations newest first, in pages, up to a bound.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

PAGE_SIZE = 200
MAX_SCANNED = 20_000  # bound on records read per lookup; lineage is a diagnostic, not a hot path


def snapshot_of(record: dg.EventLogRecord) -> str | None:
    """The snapshot id a materialisation wrote, as text (None if it recorded none)."""
    value = _metadata(record).get("snapshot_id")
    text = None if value is None else str(getattr(value, "value", value))
    return None if text in (None, "", "None") else text


def input_snapshots(record: dg.EventLogRecord) -> dict[str, str]:
    """{table: snapshot id} of the inputs a materialisation read (empty for raw)."""
    value = _metadata(record).get("input_snapshots")
    data = getattr(value, "value", value) or {}
    return {str(table): str(snap) for table, snap in data.items() if snap not in (None, "None")}


def metadata_text(record: dg.EventLogRecord, key: str) -> str | None:
    value = _metadata(record).get(key)
    return None if value is None else str(getattr(value, "value", value))


def iter_materializations(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    partition: str | None = None,
    before_storage_id: int | None = None,
) -> Iterator[dg.EventLogRecord]:
    """Materialisations of `asset_key` (of one partition if given), newest first."""
    records_filter = dg.AssetRecordsFilter(
        asset_key=asset_key,
        asset_partitions=[partition] if partition is not None else None,
        before_storage_id=before_storage_id,
    )
    cursor, scanned = None, 0
    while scanned < MAX_SCANNED:
        page = instance.fetch_materializations(records_filter, limit=PAGE_SIZE, cursor=cursor)
        yield from page.records
        scanned += len(page.records)
        if not page.has_more or not page.records:
            return
        cursor = page.cursor


def latest_materialization(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str | None = None
) -> dg.EventLogRecord | None:
    """The newest materialisation of `asset_key` (of `partition` if given), or None."""
    return next(iter_materializations(instance, asset_key, partition), None)


def materialization_for_snapshot(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    snapshot_id: str | int,
    partition: str | None = None,
) -> dg.EventLogRecord | None:
    """The materialisation of `asset_key` whose metadata says it wrote `snapshot_id`."""
    wanted = str(snapshot_id)
    for record in iter_materializations(instance, asset_key, partition):
        if snapshot_of(record) == wanted:
            return record
    return None


def materialization_at_snapshot(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    snapshot_id: str | int,
    partition: str | None = None,
) -> tuple[dg.EventLogRecord | None, bool]:
    """The materialisation that wrote `partition`'s rows as they were at table `snapshot_id`.

    A partitioned reader reads its partition at the input table's snapshot, and that
    snapshot may have been committed by another partition's run. Then the rows read are
    those of this partition's latest materialisation before that commit. Returns the record
    and whether it matched the snapshot exactly.
    """
    if partition is not None:
        exact = materialization_for_snapshot(instance, asset_key, snapshot_id, partition)
        if exact is not None:
            return exact, True
    committed = materialization_for_snapshot(instance, asset_key, snapshot_id)
    if committed is None or partition is None or committed.partition_key is None:
        return committed, committed is not None
    earlier = iter_materializations(
        instance, asset_key, partition, before_storage_id=committed.storage_id
    )
    return next(earlier, None), False


def _metadata(record: dg.EventLogRecord) -> dict:
    materialization = record.asset_materialization
    return dict(materialization.metadata) if materialization is not None else {}
