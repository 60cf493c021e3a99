"""Maintenance on real tables: tags and rows kept, small files compacted, orphans gone; and
its checks fail when the pass deletes a file a snapshot still needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.table import Table

from data_platform.check_outcome import CheckOutcome
from data_platform.defs.maintenance.checks import (
    live_files_present,
    row_counts_unchanged,
    tagged_snapshots_kept,
)
from data_platform.lakehouse import Lakehouse
from data_platform.lakehouse import maintenance as maintenance_module
from data_platform.lakehouse.compaction import COMPACT_PROPERTY
from data_platform.lakehouse.maintenance import (
    MaintenancePolicy,
    MaintenanceReport,
    RowsRead,
    TableReport,
    maintain,
)
from data_platform.lakehouse.orphans import live_files, remove_orphan_files, split_uri
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


def _digest(table: pa.Table) -> str:
    """The rows' digest computed apart from `Lakehouse.digest`: Python's sum of row hashes."""
    return f"{sum(pl.DataFrame(table).hash_rows(seed=0).to_list()) % 2**64:016x}"


def _verdicts(report: MaintenanceReport) -> dict[str, CheckOutcome]:
    checks = (tagged_snapshots_kept, row_counts_unchanged, live_files_present)
    return {check.__name__: check(report) for check in checks}


def test_maintenance_keeps_tags_and_rows_compacts_and_deletes_orphans(lakehouse, store):
    tag = _many_small_appends(lakehouse)
    before = _sorted(lakehouse.read(TABLE).data)
    tagged = lakehouse.read(TABLE, snapshot_id=tag[TABLE]).data
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
    # rows read from the data files, before and after: the same rows as the upload
    assert entry.before == entry.after == RowsRead(60, _digest(pa.table(before)))
    assert _sorted(lakehouse.read(TABLE).data) == before
    # the tag survives, and its rows are still readable (its data files were kept)
    table = lakehouse.load(TABLE)
    assert entry.tags_after == entry.tags_before == {"release-1": tag[TABLE]}
    assert (
        entry.tag_rows_after
        == entry.tag_rows_before
        == {"release-1": RowsRead(15, _digest(tagged))}
    )
    assert entry.missing_files == ()
    assert all(outcome.passed for outcome in _verdicts(report).values())
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
    assert checks == {
        "tagged_snapshots_kept": True,
        "row_counts_unchanged": True,
        "live_files_present": True,
    }
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["partitions_compacted"].value == 1
    assert metadata["snapshots_expired"].value == 11
    assert metadata["orphan_files_removed"].value >= 1
    assert metadata["bytes_saved"].value > 2048
    assert not store.exists(orphan.key)
    assert lakehouse.read(TABLE, snapshot_id=tag[TABLE]).data.num_rows == 15
    assert lakehouse.count(TABLE) == 60


def test_checks_fail_when_a_tag_or_the_rows_moved():
    gone = RowsRead(error="snapshot 1 is gone from the metadata")
    entry = TableReport(
        table=TABLE,
        before=RowsRead(60, "00000000000000aa"),
        after=RowsRead(60, "00000000000000bb"),  # as many rows, other values: a change
        tags_before={"release-1": 1},
        tags_after={"release-1": 1},
        tag_rows_before={"release-1": RowsRead(15, "00000000000000cc")},
        tag_rows_after={"release-1": gone},
    )
    report = MaintenanceReport(dry_run=False, tables=[entry])
    tags = tagged_snapshots_kept(report)
    assert not tags.passed
    assert tags.metadata["tags_lost"][f"{TABLE}@release-1"]["rows_after"] == {"error": gone.error}
    rows = row_counts_unchanged(report)
    assert (rows.passed, rows.severity) == (False, "error")
    assert rows.metadata["changed"][TABLE]["after"] == {"rows": 60, "digest": "00000000000000bb"}


# Orphan removal with a bug: after its own work it deletes one file a snapshot still needs,
# chosen by where the file is live: in the current snapshot, only in the tagged one, or only
# in a retained snapshot no tag names. Each must turn at least one check red.
def _files(table: Table, snapshot_id: int | None = None) -> set[str]:
    return {task.file.file_path for task in table.scan(snapshot_id=snapshot_id).plan_files()}


def _current_file(table: Table) -> str:
    return min(_files(table))


def _tagged_only_file(table: Table) -> str:
    tagged = table.snapshot_by_name("release-1")
    return min(_files(table, tagged.snapshot_id) - _files(table))


def _retained_only_file(table: Table) -> str:
    previous = table.current_snapshot().parent_snapshot_id
    tagged = table.snapshot_by_name("release-1").snapshot_id
    return min(_files(table, previous) - _files(table) - _files(table, tagged))


@pytest.mark.parametrize(
    ("victim", "expected"),
    [
        (_current_file, {"tagged_snapshots_kept": True, "row_counts_unchanged": False}),
        (_tagged_only_file, {"tagged_snapshots_kept": False, "row_counts_unchanged": True}),
        (_retained_only_file, {"tagged_snapshots_kept": True, "row_counts_unchanged": True}),
    ],
    ids=["current", "tagged", "retained"],
)
def test_checks_fail_when_orphan_removal_deletes_a_live_file(
    lakehouse, store, monkeypatch, victim, expected
):
    _many_small_appends(lakehouse)
    deleted: list[str] = []

    def buggy_remove_orphan_files(table: Table, client, **kwargs):
        removed = remove_orphan_files(table, client, **kwargs)
        deleted.append(victim(table))
        store.delete(split_uri(deleted[0])[1])
        return removed

    monkeypatch.setattr(maintenance_module, "remove_orphan_files", buggy_remove_orphan_files)
    policy = MaintenancePolicy(
        retain_last=2, max_snapshot_age=None, orphan_min_age=timedelta(0), compact_min_files=5
    )
    report = maintain(lakehouse, store, policy, now=datetime.now(UTC) + timedelta(minutes=10))

    verdicts = _verdicts(report)
    assert {name: v.passed for name, v in verdicts.items()} == {
        **expected,
        "live_files_present": False,
    }
    assert verdicts["live_files_present"].metadata["missing"] == {
        TABLE: {"count": 1, "files": deleted}
    }
    assert all(v.severity == "error" for v in verdicts.values() if not v.passed)
    if not expected["row_counts_unchanged"]:
        (entry,) = report.tables
        assert entry.after.error.startswith("FileNotFoundError")
        assert lakehouse.count(TABLE) == 60  # the manifests alone would not have noticed


def test_a_table_unreadable_before_is_left_alone_and_the_checks_warn(lakehouse, store):
    _many_small_appends(lakehouse)
    table = lakehouse.load(TABLE)
    store.delete(split_uri(_current_file(table))[1])  # broken before maintenance
    keys, snapshots = _keys(store, lakehouse), table.metadata.snapshots
    policy = MaintenancePolicy(retain_last=1, max_snapshot_age=None, orphan_min_age=timedelta(0))

    report = maintain(lakehouse, store, policy, now=datetime.now(UTC) + timedelta(minutes=10))

    (entry,) = report.tables
    assert entry.skipped
    assert "current:" in entry.skipped
    assert (entry.after, entry.orphans, entry.compacted) == (None, None, [])
    assert _keys(store, lakehouse) == keys  # nothing deleted, nothing compacted
    assert lakehouse.load(TABLE).metadata.snapshots == snapshots
    for outcome in _verdicts(report).values():
        assert (outcome.passed, outcome.severity) == (False, "warn")
        assert outcome.description.startswith("could not measure 1 of 1 tables")
        assert outcome.metadata["unmeasured"] == {TABLE: entry.skipped}


def test_the_job_reports_a_deleted_live_file_as_failed_checks(defs, instance, lakehouse, store):
    _many_small_appends(lakehouse)

    def buggy_remove_orphan_files(table: Table, client, **kwargs):
        removed = remove_orphan_files(table, client, **kwargs)
        store.delete(split_uri(_current_file(table))[1])
        return removed

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(maintenance_module, "remove_orphan_files", buggy_remove_orphan_files)
        config = {"retain_last": 1, "max_snapshot_age_days": 0.0, "orphan_min_age_hours": 0.0}
        result = defs.resolve_job_def("maintenance").execute_in_process(
            instance=instance,
            run_config={"ops": {"maintenance__lake_health": {"config": config}}},
            raise_on_error=False,
        )

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {name: e.passed for name, e in evaluations.items()} == {
        "tagged_snapshots_kept": True,
        "row_counts_unchanged": False,
        "live_files_present": False,
    }
    changed = evaluations["row_counts_unchanged"].metadata["changed"].value
    assert "error" in changed[TABLE]["after"]
