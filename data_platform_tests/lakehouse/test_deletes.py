"""Position-delete files (merge-on-read) on real Iceberg tables in the S3 bucket: the rows
they name are gone from every read (rows, counts, partitions, the training stream's file
tasks, SQL), an older snapshot still has them, compaction folds them, and a write whose
data file was replaced meanwhile is refused rather than deleting nothing."""

from __future__ import annotations

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.manifest import DataFileContent, ManifestContent

from data_platform.lakehouse import Lakehouse
from data_platform.lakehouse.compaction import compact_partition, partition_files
from data_platform.lakehouse.deletes import RowsMoved, key_rows, live_rows
from data_platform.lakehouse.maintenance import MaintenancePolicy, maintain
from data_platform.lakehouse.sql import query
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


def _rows(part: str, ids: range) -> pa.Table:
    return pa.table({"part": [part] * len(ids), "id": list(ids), "v": [i * 10 for i in ids]})


def _delete(lakehouse: Lakehouse, table: str, part: str, ids: list[int]) -> int:
    target = lakehouse.load(table)
    assert target is not None
    read = key_rows(target, EqualTo("part", part), ["id"])
    assert read is not None
    found = read.positions(pl.DataFrame({"id": ids}), ["id"])
    writer = lakehouse.partition_writer(
        table, _rows(part, range(0)).schema, column="part", values=[]
    )
    writer.delete_rows(found, read.earlier(found))
    result = writer.commit()
    assert result.table_rows == lakehouse.count(table)  # the summary's rows less the deletes
    return sum(f.rows for f in found)


def test_deleted_rows_are_gone_from_every_read_and_an_older_snapshot_keeps_them(
    lakehouse: Lakehouse,
):
    lakehouse.overwrite_partition("staged.del", _rows("a", range(100)), column="part", value="a")
    lakehouse.overwrite_partition(
        "staged.del", _rows("b", range(100, 110)), column="part", value="b"
    )
    before = lakehouse.snapshot_id("staged.del")
    assert _delete(lakehouse, "staged.del", "a", [3, 50, 99, 1000]) == 3  # 1000: not there

    ids = sorted(lakehouse.read("staged.del").data.column("id").to_pylist())
    assert ids == [i for i in range(110) if i not in (3, 50, 99)]
    assert lakehouse.count("staged.del") == 107
    assert live_rows(lakehouse.load("staged.del"), EqualTo("part", "a"), "part") == {"a": 97}
    again = key_rows(lakehouse.load("staged.del"), EqualTo("part", "a"), ["id"])
    assert again is not None  # read from the files, the deleted positions left out
    assert sorted(again.rows["id"].to_list()) == [i for i in range(100) if i not in (3, 50, 99)]
    part = lakehouse.read_partition("staged.del", column="part", value="a").data
    assert part.num_rows == 97
    assert 50 not in part.column("id").to_pylist()
    old = lakehouse.read("staged.del", snapshot_id=before).data
    assert old.num_rows == 110  # time travel: the snapshot before the delete
    # the training stream reads file tasks with pyiceberg's ArrowScan: deletes applied
    table = lakehouse.load("staged.del")
    scan = table.scan()
    tasks = list(scan.plan_files())
    assert sum(len(t.delete_files) for t in tasks) == 1  # matched to its one data file
    read = ArrowScan(table.metadata, table.io, scan.projection(), scan.row_filter)
    assert sum(b.num_rows for b in read.to_record_batches(tasks)) == 107
    sql = query(duckdb.connect(), lakehouse, "select count(*) as n from staged.del where id = 50")
    assert sql["n"].item() == 0
    # the delete file sits in a manifest of delete files, as the spec asks
    manifests = table.current_snapshot().manifests(table.io)
    deletes = [m for m in manifests if m.content == ManifestContent.DELETES]
    [entry] = deletes[0].fetch_manifest_entry(table.io)
    assert entry.data_file.content == DataFileContent.POSITION_DELETES
    assert table.current_snapshot().summary["added-position-deletes"] == "3"
    # a second delete: 50 is gone already, 51 is found; its delete file takes over the
    # first one's rows (one delete file per data file), and the first leaves the table
    first = entry.data_file.file_path
    assert _delete(lakehouse, "staged.del", "a", [50, 51]) == 1
    assert live_rows(lakehouse.load("staged.del"), EqualTo("part", "a"), "part") == {"a": 96}
    assert lakehouse.count("staged.del") == 106
    ids = sorted(lakehouse.read("staged.del").data.column("id").to_pylist())
    assert ids == [i for i in range(110) if i not in (3, 50, 51, 99)]
    table = lakehouse.load("staged.del")
    [task] = [t for t in table.scan().plan_files() if t.file.partition[0] == "a"]
    [merged] = task.delete_files
    assert merged.file_path != first
    assert merged.record_count == 4
    summary = table.current_snapshot().summary
    assert summary["total-delete-files"] == "1"
    assert summary["total-position-deletes"] == "4"
    live = [
        e.data_file.file_path
        for m in table.current_snapshot().manifests(table.io)
        if m.content == ManifestContent.DELETES
        for e in m.fetch_manifest_entry(table.io, discard_deleted=True)
    ]
    assert live == [merged.file_path]  # the first one's manifest left with it
    old = lakehouse.read("staged.del", snapshot_id=before).data
    assert old.num_rows == 110  # and the first snapshot still reads as it was


def test_compaction_folds_deleted_rows_into_the_new_file(lakehouse: Lakehouse):
    for start in range(0, 50, 10):  # five small files in one partition
        lakehouse.append("staged.fold", _rows("a", range(start, start + 10)))
    _delete(lakehouse, "staged.fold", "a", [0, 25, 49])
    [partition] = partition_files(lakehouse.load("staged.fold"))
    done = compact_partition(lakehouse.load("staged.fold"), partition)
    assert done.files_after == 1
    assert done.rows_before == done.rows_after == 47
    table = lakehouse.load("staged.fold")
    tasks = list(table.scan().plan_files())
    assert len(tasks) == 1
    assert not tasks[0].delete_files  # the new file needs no deletes
    summary = table.current_snapshot().summary  # and the old delete file left with its rows
    assert summary["total-position-deletes"] == "0"
    assert summary["total-delete-files"] == "0"
    ids = lakehouse.read("staged.fold").data.column("id").to_pylist()
    assert sorted(ids) == [i for i in range(50) if i not in (0, 25, 49)]


def test_a_delete_whose_data_file_was_replaced_meanwhile_is_refused(lakehouse: Lakehouse):
    lakehouse.overwrite_partition("staged.moved", _rows("a", range(10)), column="part", value="a")
    target = lakehouse.load("staged.moved")
    read = key_rows(target, EqualTo("part", "a"), ["id"])
    assert read is not None
    found = read.positions(pl.DataFrame({"id": [4]}), ["id"])
    assert found
    writer = lakehouse.partition_writer(
        "staged.moved", _rows("a", range(0)).schema, column="part", values=[]
    )
    writer.delete_rows(found)
    # another writer replaces partition a (the same rows, a new file) before the commit
    lakehouse.overwrite_partition("staged.moved", _rows("a", range(10)), column="part", value="a")
    with pytest.raises(RowsMoved, match="replaced since they were read"):
        writer.commit()
    assert lakehouse.count("staged.moved") == 10  # nothing committed, nothing lost


def test_replacing_a_partition_removes_the_delete_files_of_its_old_files(lakehouse: Lakehouse):
    lakehouse.overwrite_partition("staged.again", _rows("a", range(20)), column="part", value="a")
    lakehouse.overwrite_partition(
        "staged.again", _rows("b", range(20, 25)), column="part", value="b"
    )
    _delete(lakehouse, "staged.again", "a", [1, 2])
    replaced = lakehouse.overwrite_partition(
        "staged.again", _rows("a", range(20)), column="part", value="a"
    )
    assert replaced.table_rows == lakehouse.count("staged.again") == 25
    table = lakehouse.load("staged.again")
    assert table.current_snapshot().summary["total-delete-files"] == "0"
    deletes = [
        m
        for m in table.current_snapshot().manifests(table.io)
        if m.content == ManifestContent.DELETES
    ]
    assert all(not m.fetch_manifest_entry(table.io, discard_deleted=True) for m in deletes)


def test_maintenance_rewrites_a_partition_its_deletes_have_thinned(
    lakehouse: Lakehouse, store: ObjectStore
):
    """One large file per partition is never a small-files candidate; once upserts' delete
    files remove a tenth of its rows, maintenance rewrites it without them."""
    lakehouse.overwrite_partition("staged.thin", _rows("a", range(100)), column="part", value="a")
    lakehouse.overwrite_partition(
        "staged.thin", _rows("b", range(100, 200)), column="part", value="b"
    )
    _delete(lakehouse, "staged.thin", "a", list(range(20)))  # a fifth of a
    _delete(lakehouse, "staged.thin", "b", [150])  # one row of b
    report = maintain(lakehouse, store, MaintenancePolicy(), tables=["staged.thin"])
    [entry] = report.tables
    assert [c.partition for c in entry.compacted] == ["part=a"]
    assert entry.compacted[0].rows_after == 80
    table = lakehouse.load("staged.thin")
    live = {t.file.partition[0]: len(t.delete_files) for t in table.scan().plan_files()}
    assert live == {"a": 0, "b": 1}
    assert lakehouse.count("staged.thin") == 179


def test_a_delete_whose_earlier_delete_file_was_taken_over_meanwhile_is_refused(
    lakehouse: Lakehouse,
):
    """Two writers find rows of the same data file, which has a delete file: the first
    commit replaces it with one holding both deletes; the second would take over a file no
    longer there (and delete its rows twice), so it is refused and decided again."""
    lakehouse.overwrite_partition("staged.twice", _rows("a", range(10)), column="part", value="a")
    _delete(lakehouse, "staged.twice", "a", [0])
    schema = _rows("a", range(0)).schema
    writers = []
    for doomed in ([4], [5]):
        read = key_rows(lakehouse.load("staged.twice"), EqualTo("part", "a"), ["id"])
        assert read is not None
        found = read.positions(pl.DataFrame({"id": doomed}), ["id"])
        writer = lakehouse.partition_writer("staged.twice", schema, column="part", values=[])
        writer.delete_rows(found, read.earlier(found))
        writers.append(writer)
    writers[0].commit()
    with pytest.raises(RowsMoved, match="replaced since they were read"):
        writers[1].commit()
    ids = sorted(lakehouse.read("staged.twice").data.column("id").to_pylist())
    assert ids == [1, 2, 3, 5, 6, 7, 8, 9]
    assert lakehouse.count("staged.twice") == 8
