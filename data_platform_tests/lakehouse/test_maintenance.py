"""Maintenance on real tables: tags and row counts kept, small files compacted, orphans gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pyarrow as pa
import pytest

from data_platform.defs.maintenance.checks import row_counts_unchanged, tagged_snapshots_kept
from data_platform.lakehouse import Lakehouse
from data_platform.lakehouse.compaction import COMPACT_PROPERTY
from data_platform.lakehouse.maintenance import (
    MaintenancePolicy,
    MaintenanceReport,
    TableReport,
    maintain,
)
from data_platform.lakehouse.orphans import live_files, split_uri
from data_platform.lakehouse.schema_policy import SchemaPolicyError
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration

TABLE = "staged.items"


def _batch(part: str, start: int, rows: int = 5) -> pa.Table:
    return pa.table({"part": [part] * rows, "v": list(range(start, start + rows))})


def _many_small_appends(lake: Lakehouse) -> dict[str, int]:
    """10 appends to partition a (tagged after the 3rd), 2 to b. Returns the tag."""
    tag = {}
    for i in range(10):
        lake.append(TABLE, _batch("a", i * 5), partition_by="part")
        if i == 2:
            tag = lake.tag("release-1", [TABLE])
    lake.append(TABLE, _batch("b", 100), partition_by="part")
    lake.append(TABLE, _batch("b", 105), partition_by="part")
    return tag


def _keys(store: ObjectStore, lake: Lakehouse) -> set[str]:
    bucket, prefix = split_uri(lake.load(TABLE).location() + "/")
    return {info.key for info in store.for_bucket(bucket).list(prefix)}


def _sorted(table: pa.Table) -> dict:
    return table.sort_by([("part", "ascending"), ("v", "ascending")]).to_pydict()


def test_maintenance_keeps_tags_and_rows_compacts_and_deletes_orphans(lakehouse, store):
    tag = _many_small_appends(lakehouse)
    before = _sorted(lakehouse.read(TABLE).data)
    location = lakehouse.load(TABLE).location()
    _, prefix = split_uri(location + "/")
    orphan = store.put_bytes(
        prefix + "data/part=a/00000-orphan-from-a-failed-write.parquet", b"x" * 4096
    )
    # the clock is 10 minutes ahead so that every file counts as old enough to remove
    now = datetime.now(UTC) + timedelta(minutes=10)
    policy = MaintenancePolicy(
        retain_last=1,
        max_snapshot_age=None,
        orphan_min_age=timedelta(minutes=1),
        compact_min_files=5,
    )

    report = maintain(lakehouse, store, policy, now=now)

    (entry,) = report.tables
    (compacted,) = entry.compacted
    assert (compacted.partition, compacted.files_before, compacted.files_after) == ("part=a", 10, 1)
    assert compacted.rows_before == compacted.rows_after == 50
    assert entry.rows_before == entry.rows_after == 60
    assert _sorted(lakehouse.read(TABLE).data) == before
    # the tag survives, and its rows are still readable (its data files were kept)
    table = lakehouse.load(TABLE)
    assert entry.tags_after == entry.tags_before == {"release-1": tag[TABLE]}
    assert entry.tag_rows_after == entry.tag_rows_before == {"release-1": 15}
    assert table.snapshot_by_id(tag[TABLE]) is not None
    assert table.current_snapshot().summary[COMPACT_PROPERTY] == "compact part=a"
    assert lakehouse.read(TABLE, snapshot_id=tag[TABLE]).data.num_rows == 15
    # everything else but the current snapshot was expired
    assert {s.snapshot_id for s in table.metadata.snapshots} == {
        tag[TABLE],
        table.current_snapshot().snapshot_id,
    }
    assert len(entry.expired.expired) == 11  # 12 appends + the compaction, less two kept
    # the orphan and the files of expired snapshots are gone from the bucket
    removed = {f.key: f.size for f in entry.orphans.removed}
    assert removed[orphan.key] == 4096
    assert not store.exists(orphan.key)
    left = _keys(store, lakehouse)
    assert left == {split_uri(uri)[1] for uri in live_files(table)}
    assert not left & set(removed)
    assert report.bytes_saved == sum(removed.values()) > 4096
    # a second pass finds nothing to do
    again = maintain(lakehouse, store, policy, now=now).summary()
    assert again["partitions_compacted"] == again["snapshots_expired"] == 0
    assert again["orphan_files_removed"] == 0


def test_dry_run_changes_nothing_and_young_orphans_are_safe(lakehouse, store):
    _many_small_appends(lakehouse)
    _, prefix = split_uri(lakehouse.load(TABLE).location() + "/")
    young = store.put_bytes(prefix + "data/in-flight.parquet", b"y" * 100)
    keys, snapshots = _keys(store, lakehouse), lakehouse.load(TABLE).metadata.snapshots
    policy = MaintenancePolicy(retain_last=1, max_snapshot_age=None, compact_min_files=5)

    report = maintain(lakehouse, store, policy, dry_run=True)

    (entry,) = report.tables
    assert [c.partition for c in entry.compacted] == ["part=a"]
    assert len(entry.expired.expired) == 10  # 12 appends less the tagged one and the current
    assert young.key not in {f.key for f in entry.orphans.removed}  # younger than a day
    assert _keys(store, lakehouse) == keys
    assert lakehouse.load(TABLE).metadata.snapshots == snapshots
    # with a short safety age, the young file is an orphan; dry run still deletes nothing
    now = datetime.now(UTC) + timedelta(minutes=10)
    short = MaintenancePolicy(retain_last=None, max_snapshot_age=None, orphan_min_age=timedelta(0))
    listed = maintain(lakehouse, store, short, dry_run=True, now=now).tables[0].orphans
    assert young.key in {f.key for f in listed.removed}
    assert store.exists(young.key)


def test_retention_by_age_keeps_recent_snapshots(lakehouse, store):
    for i in range(4):
        lakehouse.append(TABLE, _batch("a", i), partition_by="part")
    policy = MaintenancePolicy(retain_last=None, max_snapshot_age=timedelta(hours=1))
    report = maintain(lakehouse, store, policy)
    assert report.summary()["snapshots_expired"] == 0  # all younger than an hour
    later = datetime.now(UTC) + timedelta(hours=2)
    aged = maintain(
        lakehouse,
        store,
        MaintenancePolicy(retain_last=2, max_snapshot_age=timedelta(hours=1)),
        now=later,
    )
    assert aged.summary()["snapshots_expired"] == 2
    assert lakehouse.count(TABLE) == 20


def test_narrowing_a_type_is_refused_and_the_data_stays_readable(lakehouse):
    wide = pa.table(
        {"part": ["a"], "v": pa.array([1], pa.int32()), "x": pa.array([0.5], pa.float32())}
    )
    first = lakehouse.append(TABLE, wide, partition_by="part")
    narrower = pa.table({"part": ["a"], "v": pa.array([2**40], pa.int64())})
    with pytest.raises(SchemaPolicyError, match="column 'v' is int32 in the table"):
        lakehouse.append(TABLE, narrower)
    with pytest.raises(SchemaPolicyError, match="column 'x'"):
        lakehouse.append(TABLE, pa.table({"part": ["a"], "x": pa.array([0.1], pa.float64())}))
    table = lakehouse.load(TABLE)
    assert table.schema().as_arrow().field("v").type == pa.int32()
    assert lakehouse.snapshot_id(TABLE) == first.snapshot_id  # nothing was committed
    assert lakehouse.read(TABLE).data.to_pydict()["v"] == [1]


def test_maintenance_job_reports_and_its_checks_pass(defs, instance, lakehouse, store):
    tag = _many_small_appends(lakehouse)
    _, prefix = split_uri(lakehouse.load(TABLE).location() + "/")
    orphan = store.put_bytes(prefix + "data/orphan.parquet", b"z" * 2048)
    merged = defs  # the platform's definitions include the maintenance job
    schedule = merged.resolve_schedule_def("maintenance_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    config = {"retain_last": 1, "max_snapshot_age_days": 0.0, "orphan_min_age_hours": 0.0}
    config["compact_min_files"] = 5
    run_config = {"ops": {"maintenance__lake_health": {"config": config}}}

    result = merged.resolve_job_def("maintenance").execute_in_process(
        instance=instance, run_config=run_config
    )

    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"tagged_snapshots_kept": True, "row_counts_unchanged": True}
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["partitions_compacted"].value == 1
    assert metadata["snapshots_expired"].value == 11
    assert metadata["orphan_files_removed"].value >= 1
    assert metadata["bytes_saved"].value > 2048
    assert not store.exists(orphan.key)
    assert lakehouse.read(TABLE, snapshot_id=tag[TABLE]).data.num_rows == 15
    assert lakehouse.count(TABLE) == 60


def test_checks_fail_when_a_tag_or_a_row_count_moved():
    entry = TableReport(
        table=TABLE,
        rows_before=60,
        rows_after=59,
        tags_before={"release-1": 1},
        tags_after={"release-1": 1},
        tag_rows_before={"release-1": 15},
        tag_rows_after={"release-1": -1},  # the tag's snapshot is gone
    )
    report = MaintenanceReport(dry_run=False, tables=[entry])
    tags = tagged_snapshots_kept(report)
    kept, kept_meta = tags.passed, tags.metadata
    assert not kept
    assert kept_meta["tags_lost"][f"{TABLE}@release-1"]["rows_after"] == -1
    counts = row_counts_unchanged(report)
    same, same_meta = counts.passed, counts.metadata
    assert not same
    assert same_meta["changed"] == {TABLE: {"before": 60, "after": 59}}
