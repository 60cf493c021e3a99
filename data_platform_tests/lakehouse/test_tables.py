"""Write modes on real Iceberg tables in the S3 bucket, with SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import pickle
import warnings

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.ingest.pipeline import constant
from data_platform.lakehouse import Lakehouse, metadata_cache, open_catalog
from data_platform.lakehouse.schema_policy import SchemaPolicyError
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


def _rows(key: str, values: list[int]) -> pa.Table:
    return pa.table({"part": [key] * len(values), "v": values})


def test_overwrite_partition_is_idempotent_and_touches_one_partition(lakehouse: Lakehouse):
    lakehouse.overwrite_partition("raw.t", _rows("a", [1, 2]), column="part", value="a")
    lakehouse.overwrite_partition("raw.t", _rows("b", [3]), column="part", value="b")
    again = lakehouse.overwrite_partition("raw.t", _rows("a", [1, 2]), column="part", value="a")
    assert again.table_rows == 3
    data = lakehouse.read("raw.t").data.sort_by("v").to_pydict()
    assert data == {"part": ["a", "a", "b"], "v": [1, 2, 3]}
    changed = lakehouse.overwrite_partition("raw.t", _rows("a", [9]), column="part", value="a")
    assert changed.rows_written == 1
    assert changed.table_rows == 2
    assert lakehouse.read_partition("raw.t", column="part", value="b").data.num_rows == 1


def test_writes_report_snapshots_and_reads_travel_back(lakehouse: Lakehouse):
    first = lakehouse.append("staged.t", _rows("a", [1]))
    second = lakehouse.append("staged.t", _rows("a", [2]))
    assert first.snapshot_id != second.snapshot_id
    assert second.location.startswith("s3://")
    old = lakehouse.read("staged.t", snapshot_id=first.snapshot_id)
    assert old.snapshot_id == first.snapshot_id
    assert old.data.column("v").to_pylist() == [1]
    assert lakehouse.read("staged.t").data.num_rows == 2


def test_upsert_updates_and_inserts_without_duplicates(lakehouse: Lakehouse):
    lakehouse.upsert(
        "labeled.t", pa.table({"id": ["1", "2"], "label": ["x", "y"]}), join_cols=["id"]
    )
    result = lakehouse.upsert(
        "labeled.t", pa.table({"id": ["2", "3"], "label": ["z", "w"]}), join_cols=["id"]
    )
    assert result.rows_written == 2
    assert result.table_rows == 3
    rows = dict(zip(*lakehouse.read("labeled.t").data.to_pydict().values(), strict=True))
    assert rows == {"1": "x", "2": "z", "3": "w"}


def test_new_columns_are_added_and_narrowing_is_refused(lakehouse: Lakehouse):
    lakehouse.append("raw.s", pa.table({"v": pa.array([1], pa.int64())}))
    lakehouse.append("raw.s", pa.table({"v": pa.array([2], pa.int64()), "extra": ["e"]}))
    assert lakehouse.read("raw.s").data.column_names == ["v", "extra"]
    with pytest.raises(SchemaPolicyError, match="column 'v'"):
        lakehouse.append("raw.s", pa.table({"v": pa.array(["text"], pa.string())}))
    assert lakehouse.read("raw.s").data.num_rows == 2  # still readable, nothing written


@pytest.mark.postgres
def test_catalog_on_postgresql(pg_settings, store: ObjectStore):
    lake = Lakehouse(open_catalog(pg_settings))
    write = lake.overwrite_partition("raw.pg", _rows("a", [1, 2]), column="part", value="a")
    reopened = Lakehouse(open_catalog(pg_settings))  # a second process would see the same
    assert reopened.snapshot_id("raw.pg") == write.snapshot_id
    assert reopened.count("raw.pg") == 2
    metadata = [o.key for o in store.list("warehouse/raw/pg/metadata/")]
    assert any(k.endswith(".metadata.json") for k in metadata)


def test_missing_table_read_gives_clear_error(lakehouse: Lakehouse):
    with pytest.raises(LookupError, match="raw.nothing does not exist yet"):
        lakehouse.read("raw.nothing")


def test_tables_share_one_filesystem_per_store(lakehouse: Lakehouse):
    """pyiceberg makes a FileIO per table load; ours share one S3 filesystem (fileio.py)."""
    lakehouse.append("raw.fs1", _rows("a", [1]))
    lakehouse.append("raw.fs2", _rows("a", [2]))
    first, second = (lakehouse.load(name) for name in ("raw.fs1", "raw.fs2"))
    assert first is not None
    assert second is not None
    assert first.io is not second.io
    location = first.location()
    scheme, netloc, _ = first.io.parse_location(location)
    assert first.io.fs_by_scheme(scheme, netloc) is second.io.fs_by_scheme(scheme, netloc)
    copied = pickle.loads(pickle.dumps(first.io))  # e.g. shipped to a worker process
    assert copied.fs_by_scheme(scheme, netloc) is first.io.fs_by_scheme(scheme, netloc)


def _read_in_forked_child(io, location: str, parent_fs_id: int, out) -> None:
    scheme, netloc, path = io.parse_location(location)
    child_fs = io.fs_by_scheme(scheme, netloc)
    with child_fs.open_input_file(path) as f:
        out.send((id(child_fs) != parent_fs_id, f.read()))


def test_a_forked_child_builds_its_own_filesystem(lakehouse: Lakehouse):
    """A forked worker (a DataLoader worker) reading through the parent's S3 connections
    read the parent's bytes: corrupt manifests in the training stream. Each process has
    its own filesystem, and reads in parent and children agree."""
    import multiprocessing

    lakehouse.append("raw.forked", _rows("a", [1, 2, 3]))
    table = lakehouse.load("raw.forked")
    assert table is not None
    location = table.metadata_location
    scheme, netloc, path = table.io.parse_location(location)
    parent_fs = table.io.fs_by_scheme(scheme, netloc)
    with parent_fs.open_input_file(path) as f:
        expected = f.read()  # the parent's connection is now open and pooled
    context = multiprocessing.get_context("fork")
    results = []
    for _ in range(2):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_read_in_forked_child, args=(table.io, location, id(parent_fs), send)
        )
        child.start()
        results.append(receive.recv())
        child.join(timeout=60)
        assert child.exitcode == 0
    assert all(own for own, _ in results), "a forked child used its parent's filesystem"
    assert all(data == expected for _, data in results)
    assert table.io.fs_by_scheme(scheme, netloc) is parent_fs  # the parent keeps its own


def test_a_partition_write_on_a_stale_table_commits_on_a_fresh_one(lakehouse: Lakehouse):
    """The writer's first commit uses the table it opened; another writer's commit in
    between costs a conflict and a retry on a fresh load, never a lost write."""
    lakehouse.overwrite_partition("raw.st", _rows("a", [1]), column="part", value="a")
    writer = lakehouse.partition_writer(
        "raw.st", _rows("b", [0]).schema, column="part", values=["b"]
    )
    lakehouse.overwrite_partition("raw.st", _rows("c", [3]), column="part", value="c")
    writer.add(_rows("b", [2]))
    result = writer.commit()
    assert result.table_rows == 3
    data = lakehouse.read("raw.st").data.sort_by("v").to_pydict()
    assert data == {"part": ["a", "b", "c"], "v": [1, 2, 3]}


def test_former_platform_column_names_are_renamed_in_a_derived_table(lakehouse: Lakehouse):
    """`labeled.t` as an earlier version wrote it: `source_key`, `staged_snapshot_id`."""
    old = pa.table({"id": ["a"], "source_key": ["day-1.csv"], "staged_snapshot_id": [7]})
    lakehouse.append("labeled.t", old)
    renamed = lakehouse.rename_former_columns("labeled.t")
    assert renamed == {"source_key": SOURCE_KEY, "staged_snapshot_id": STAGED_SNAPSHOT_ID}
    assert lakehouse.read("labeled.t").data.to_pydict() == {
        "id": ["a"],
        SOURCE_KEY: ["day-1.csv"],
        STAGED_SNAPSHOT_ID: [7],
    }
    assert lakehouse.rename_former_columns("labeled.t") == {}  # nothing left to rename


def test_a_constant_column_held_as_an_enum_is_stored_and_read_as_plain_strings(
    lakehouse: Lakehouse,
):
    """Ingestion holds the upload's key and ETag as one-value Enums (`constant`); the data
    file stores them as the table's string columns, dictionary-encoded, and every reader
    gets strings back, as from a file written from strings."""
    frame = pl.DataFrame({"v": [1, 2, 3]}).with_columns(
        constant("up/1.csv").alias("part"), constant('"e1"').alias("etag")
    )
    schema = pa.schema(
        [("v", pa.int64()), ("part", pa.large_string()), ("etag", pa.large_string())]
    )
    writer = lakehouse.partition_writer("raw.enum", schema, column="part", values=["up/1.csv"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyiceberg warns on a dictionary type in a file
        writer.add(frame)
        writer.commit()
        read = lakehouse.read("raw.enum").data
    assert read.schema.field("part").type == pa.large_string()
    assert read.schema.field("etag").type == pa.large_string()
    assert read.sort_by("v").to_pydict() == {
        "v": [1, 2, 3],
        "part": ["up/1.csv"] * 3,
        "etag": ['"e1"'] * 3,
    }
    table = lakehouse.catalog.load_table("raw.enum")
    (task,) = table.scan().plan_files()
    with table.io.new_input(task.file.file_path).open() as handle:
        body = handle.read()
    file = pq.ParquetFile(pa.BufferReader(body))
    assert file.schema_arrow.field("part").type == pa.large_string()  # no dictionary type
    assert "RLE_DICTIONARY" in file.metadata.row_group(0).column(1).encodings
    assert task.file.lower_bounds[2] == task.file.upper_bounds[2] == b"up/1.csv"


def test_a_batch_replaces_many_partitions_in_one_snapshot_and_a_discarded_one_is_emptied(
    lakehouse: Lakehouse,
):
    """A batch of uploads commits once per table (#28): every partition of the batch is
    replaced in one snapshot, and a partition discarded (a refused upload) is emptied."""
    lakehouse.overwrite_partition("raw.batch", _rows("a", [1]), column="part", value="a")
    lakehouse.overwrite_partition("raw.batch", _rows("z", [26]), column="part", value="z")
    before = lakehouse.snapshot_id("raw.batch")
    writer = lakehouse.partition_writer(
        "raw.batch", _rows("a", [0]).schema, column="part", values=["a", "b", "c"]
    )
    writer.add(_rows("a", [10, 11]))
    writer.add(pa.concat_tables([_rows("b", [20]), _rows("c", [30, 31])]))  # split by value
    writer.discard("c")
    assert (writer.rows_of("a"), writer.rows_of("b"), writer.rows_of("c")) == (2, 1, 0)
    with pytest.raises(ValueError, match="got rows for \\['x'\\]"):
        writer.add(_rows("x", [1]))
    result = writer.commit()
    table = lakehouse.load("raw.batch")
    assert [s.parent_snapshot_id for s in table.snapshots()][-1] == before  # one snapshot
    assert result.snapshot_id == table.current_snapshot().snapshot_id
    data = lakehouse.read("raw.batch").data.sort_by("v").to_pydict()
    assert data == {"part": ["a", "a", "b", "z"], "v": [10, 11, 20, 26]}


def test_metadata_files_are_read_once_per_process(lakehouse: Lakehouse, store: ObjectStore):
    """Metadata files never change once written: a second load and scan plan take the
    table's metadata, manifest list and manifests from memory (proved by deleting them from
    the store: the load and the plan still work), and once forgotten they are read from the
    store again."""
    lakehouse.overwrite_partition("raw.once", _rows("a", [1, 2]), column="part", value="a")
    table = lakehouse.load("raw.once")
    [manifest] = table.current_snapshot().manifests(table.io)
    assert [t.file.record_count for t in table.scan().plan_files()] == [2]
    for path in (manifest.manifest_path, table.current_snapshot().manifest_list):
        table.io.delete(path)
    table.io.delete(table.metadata_location)  # written by this process: kept as written
    again = lakehouse.load("raw.once")
    assert [t.file.record_count for t in again.scan().plan_files()] == [2]  # from memory
    held = metadata_cache.clear()
    assert min(held.values()) >= 1, held  # manifests, manifest lists, table metadata
    with pytest.raises(FileNotFoundError):
        lakehouse.load("raw.once")


def test_a_table_this_process_committed_loads_without_reading_its_metadata(
    lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
):
    """The metadata file a commit writes is kept as written: the next load of the table
    reads no metadata file from the store."""
    lakehouse.overwrite_partition("raw.kept", _rows("a", [1]), column="part", value="a")
    metadata_cache.clear()
    read: list[str] = []
    original = metadata_cache._read_metadata

    def counted(input_file, encoding="utf-8"):
        read.append(input_file.location)
        return original(input_file, encoding)

    monkeypatch.setattr(metadata_cache, "_read_metadata", counted)
    lakehouse.overwrite_partition("raw.kept", _rows("b", [2]), column="part", value="b")
    assert read  # the commit loaded the table it started from
    read.clear()
    table = lakehouse.load("raw.kept")
    assert read == []
    assert sorted(lakehouse.read("raw.kept").data.column("v").to_pylist()) == [1, 2]
    assert table.metadata_location.endswith(".metadata.json")
