"""Row-level deletes as Iceberg position-delete files (merge-on-read).

An upsert that replaces a few rows of a large data file need not rewrite the file: an
Iceberg v2 position-delete file lists the (data file, row position) pairs that no longer
count, and every read applies it. pyiceberg 0.12 applies them when it reads (scans, counts,
the training stream's file tasks: every read here goes through it) but has no writer for
them; this module writes them, one small Parquet file per partition touched (its
`file_path` bounds the first and last data file it names, so readers open it only for
those), and commits them in a DELETES manifest of the snapshot that adds the new rows.

A data file keeps one delete file at a time, as Iceberg v3's deletion vectors do: a new
delete file for data files that already have one takes over the earlier file's rows, and
the commit removes the earlier file. Reads open one delete file per data file however many
upserts touched it, and finding the rows to delete reads it once.

A commit that removes data files (a partition replaced, compaction) removes their delete
files with them (`RowLevelOverwrite.remove_delete_file`), so the table's summary (records
less position deletes) stays its row count.
"""

from __future__ import annotations

import io
import posixpath
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.exceptions import ValidationException
from pyiceberg.expressions import BooleanExpression
from pyiceberg.io import FileIO
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestFile,
    ManifestWriterV2,
)
from pyiceberg.partitioning import PartitionSpec
from pyiceberg.table import Table, TableProperties
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.table.update.snapshot import UpdateSnapshot, _ManifestMergeManager, _OverwriteFiles
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import EMPTY_DICT
from pyiceberg.utils.properties import property_as_bool, property_as_int

WHOLE_FILE_BYTES = 1 << 20  # Parquet files up to this size are fetched in one GET
PATH_FIELD_ID = 2147483546  # the Iceberg spec's reserved ids of a position-delete file
POS_FIELD_ID = 2147483545
_SCHEMA = pa.schema(
    [
        pa.field("file_path", pa.string(), False, {b"PARQUET:field_id": str(PATH_FIELD_ID)}),
        pa.field("pos", pa.int64(), False, {b"PARQUET:field_id": str(POS_FIELD_ID)}),
    ]
)


class RowsMoved(RuntimeError):
    """A data file that a delete file names is no longer live (another writer replaced it
    since its rows were found): a passing failure, decided again on the new state."""


@dataclass(frozen=True)
class FileRows:
    """Rows of one live data file, by position (0-based, in file order)."""

    data_file: DataFile
    positions: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.positions)


FILE = "__file"  # key_rows: the index of a row's data file in `KeyRows.files`
POS = "__pos"  # and its position in that file
_DELETED = {"file_path": pl.String(), "pos": pl.Int64()}  # a position-delete file's rows


@dataclass(frozen=True)
class Earlier:
    """Position-delete files already on some data files, and every row they hold: what a
    new delete file for those data files takes over (and its commit removes)."""

    files: list[DataFile]
    rows: pl.DataFrame  # file_path, pos


@dataclass(frozen=True)
class KeyRows:
    """Live rows of some data files of a table: the columns read, each row's file and
    position. What an upsert needs to find the rows it replaces and to delete them."""

    files: list[DataFile]
    rows: pl.DataFrame
    # data file path -> the delete files that apply to it; delete file path -> its rows
    delete_files: dict[str, list[DataFile]] = field(default_factory=dict)
    deleted: dict[str, pl.DataFrame] = field(default_factory=dict)

    def positions(self, keys: pl.DataFrame, key: list[str]) -> list[FileRows]:
        """The rows whose `key` is among `keys`, file by file."""
        wanted = keys.select(pl.col(c).cast(self.rows.schema[c]) for c in key)
        hit = self.rows.join(wanted, on=key, how="semi", nulls_equal=False)
        return [
            FileRows(self.files[int(index)], group.get_column(POS).to_numpy().astype(np.int64))
            for (index,), group in hit.group_by(FILE)
        ]

    def earlier(self, rows: list[FileRows]) -> Earlier:
        """The delete files on the data files of `rows`, with all they hold (rows naming
        other data files too: the file is replaced whole)."""
        files = {
            d.file_path: d for r in rows for d in self.delete_files.get(r.data_file.file_path, [])
        }
        held = [self.deleted[path] for path in files]
        return Earlier(list(files.values()), pl.concat([pl.DataFrame(schema=_DELETED), *held]))


def key_rows(
    table: Table,
    row_filter: BooleanExpression,
    columns: list[str],
    among: pl.DataFrame | None = None,
    threads: int = 4,
) -> KeyRows | None:
    """`columns` of the live rows of the data files `row_filter` selects (files are pruned
    by the filter, rows are not: a file's rows outside it come too), each with its file and
    position; rows that position-delete files removed are left out. With `among` (key
    values), only the rows whose key (`among`'s columns) is among them. The files are read
    directly, in parallel, only those columns (pyiceberg's scan would read the same bytes
    and convert them twice). None when a file lacks a column by name (written before a
    rename): the caller reads through pyiceberg instead."""
    tasks = list(table.scan(row_filter=row_filter).plan_files())
    deletes = [d for task in tasks for d in task.delete_files]
    with ThreadPoolExecutor(1, thread_name_prefix="deletes") as pool:  # beside the reads
        pending = pool.submit(_delete_file_rows, table, deletes)
        found = _key_rows(table, tasks, columns, among, threads)
        deleted = pending.result()
    if found is None:
        return None
    if deleted:
        index = pl.DataFrame(
            {"file_path": [t.file.file_path for t in tasks], FILE: range(len(tasks))},
            schema={"file_path": pl.String(), FILE: pl.UInt32()},
        )
        gone = pl.concat(list(deleted.values())).join(index, on="file_path")
        found = found.join(gone.select(FILE, pl.col("pos").alias(POS)), on=[FILE, POS], how="anti")
    return KeyRows(
        [task.file for task in tasks],
        found,
        {t.file.file_path: list(t.delete_files) for t in tasks if t.delete_files},
        deleted,
    )


def _key_rows(
    table: Table,
    tasks: list[Any],
    columns: list[str],
    among: pl.DataFrame | None,
    threads: int,
) -> pl.DataFrame | None:
    """The rows of `key_rows`, deleted ones included."""
    # a column the table is identity-partitioned by is its file's partition value: not
    # decoded from the file (a string repeated on every row)
    slots = {c: s for c in columns if (s := _identity_slot(table, tasks, c)) is not None}
    stored = [c for c in columns if c not in slots]
    types = pl.from_arrow(table.schema().as_arrow().empty_table())
    assert isinstance(types, pl.DataFrame)

    def read(index: int) -> pl.DataFrame | None:
        data_file = tasks[index].file
        with _parquet(table, data_file.file_path, data_file.file_size_in_bytes) as parquet:
            if not set(stored) <= set(parquet.schema_arrow.names):
                return None
            frame = pl.from_arrow(parquet.read(columns=stored))
        assert isinstance(frame, pl.DataFrame)
        frame = frame.with_row_index(POS)
        if among is not None:
            wanted = among.select(pl.col(c).cast(frame.schema[c]) for c in among.columns)
            frame = frame.join(wanted, on=among.columns, how="semi", nulls_equal=False)
        return frame.select(
            *(
                pl.lit(data_file.partition[slots[c]], types.schema[c]).alias(c)
                if c in slots
                else pl.col(c)
                for c in columns
            ),
            pl.col(POS).cast(pl.Int64),
            pl.lit(index, pl.UInt32).alias(FILE),
        )

    with ThreadPoolExecutor(threads, thread_name_prefix="key-rows") as pool:
        frames = list(pool.map(read, range(len(tasks))))
    if any(f is None for f in frames):
        return None
    schema = {**types.select(columns).schema, POS: pl.Int64(), FILE: pl.UInt32()}
    return pl.concat(
        [pl.DataFrame(schema=schema), *(f for f in frames if f is not None)],
        how="vertical_relaxed",
    )


def live_rows(table: Table, row_filter: BooleanExpression, column: str) -> dict[str, int]:
    """Live rows per value of the identity partition on `column`, of the data files
    `row_filter` selects, from the manifests alone: their rows less those their delete
    files remove (each position is deleted once: the rows an upsert deletes are live rows,
    found with the deletes before them applied). Empty if `column` is not such a partition."""
    tasks = list(table.scan(row_filter=row_filter).plan_files())
    slot = _identity_slot(table, tasks, column)
    if slot is None:
        return {}
    totals: dict[str, int] = {}
    deletes: dict[str, tuple[str, int]] = {}
    for task in tasks:
        value = str(task.file.partition[slot])
        totals[value] = totals.get(value, 0) + task.file.record_count
        for d in task.delete_files:
            deletes[d.file_path] = (value, d.record_count)
    for value, rows in deletes.values():
        totals[value] -= rows
    return totals


def _identity_slot(table: Table, tasks: list[Any], column: str) -> int | None:
    """Where `column`'s value sits in the partition record of the tasks' data files, when
    the table's current spec partitions by it as it is and every file was written under
    that spec (None otherwise: the value is read from the files)."""
    if any(task.file.spec_id != table.spec().spec_id for task in tasks):
        return None
    source = table.schema().find_field(column).field_id
    for slot, spec_field in enumerate(table.spec().fields):
        if spec_field.source_id == source and isinstance(spec_field.transform, IdentityTransform):
            return slot
    return None


def _delete_file_rows(table: Table, deletes: list[DataFile]) -> dict[str, pl.DataFrame]:
    """Delete file path -> the (file_path, pos) rows it holds (read in parallel, each once)."""
    unique = {d.file_path: d for d in deletes}

    def read(path: str) -> pl.DataFrame:
        with _parquet(table, path, unique[path].file_size_in_bytes) as parquet:
            frame = pl.from_arrow(parquet.read(columns=["file_path", "pos"]))
        assert isinstance(frame, pl.DataFrame)
        return frame.cast(_DELETED)  # type: ignore[arg-type]

    with ThreadPoolExecutor(8, thread_name_prefix="deletes") as pool:
        return dict(zip(unique, pool.map(read, list(unique)), strict=True))


@contextmanager
def _parquet(table: Table, path: str, size: int) -> Iterator[pq.ParquetFile]:
    """A Parquet file of the table, to read columns of. A small one (delete files, an
    upload's few thousand rows) is fetched whole in one GET: its round trips (the size, the
    footer, each column chunk) cost more than its bytes; a larger one is read by range."""
    if size <= WHOLE_FILE_BYTES:
        with table.io.new_input(path).open(seekable=False) as stream:
            data = stream.read()
        yield pq.ParquetFile(pa.BufferReader(data))
        return
    with table.io.new_input(path).open() as stream:
        yield pq.ParquetFile(stream)


def write_position_deletes(
    table: Table, rows: list[FileRows], earlier: Earlier | None = None
) -> DataFile:
    """One position-delete file for `rows` (data files of one partition) and the rows of
    the `earlier` delete files it replaces, beside the first data file it names; its
    DataFile entry. Its `file_path` bounds are the first and last path it names: a reader
    opens it only for data files within them (when it names one data file, for that one
    alone)."""
    new = [
        pl.DataFrame(
            {
                "file_path": pl.repeat(r.data_file.file_path, r.rows, eager=True),
                "pos": r.positions,
            },
            schema=_DELETED,
        )
        for r in rows
    ]
    held = [earlier.rows] if earlier is not None else []
    frame = pl.concat([*new, *held]).sort("file_path", "pos")  # the spec's order
    paths = frame.get_column("file_path")
    positions = frame.get_column("pos")
    first, last = str(paths[0]), str(paths[-1])
    body = io.BytesIO()
    arrow = pa.table([paths.to_arrow().cast(pa.string()), positions.to_arrow()], schema=_SCHEMA)
    pq.write_table(arrow, body, compression="zstd")
    data = body.getvalue()
    location = posixpath.join(posixpath.dirname(first), f"{uuid.uuid4()}-deletes.parquet")
    with table.io.new_output(location).create(overwrite=True) as out:
        out.write(data)
    return DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=location,
        file_format=FileFormat.PARQUET,
        partition=rows[0].data_file.partition,
        record_count=len(positions),
        file_size_in_bytes=len(data),
        column_sizes={},
        value_counts={PATH_FIELD_ID: len(positions), POS_FIELD_ID: len(positions)},
        null_value_counts={PATH_FIELD_ID: 0, POS_FIELD_ID: 0},
        nan_value_counts={},
        lower_bounds={
            PATH_FIELD_ID: first.encode(),
            POS_FIELD_ID: int(positions.min()).to_bytes(8, "little", signed=True),  # type: ignore[arg-type]
        },
        upper_bounds={
            PATH_FIELD_ID: last.encode(),
            POS_FIELD_ID: int(positions.max()).to_bytes(8, "little", signed=True),  # type: ignore[arg-type]
        },
        key_metadata=None,
        split_offsets=None,
        equality_ids=None,
        sort_order_id=None,
        spec_id=rows[0].data_file.spec_id,
    )


class _DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg's v2 manifest writer, writing a manifest of delete files."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


class RowLevelOverwrite(_OverwriteFiles):
    """An OVERWRITE snapshot that may also add position-delete files (`append_data_file`
    takes both kinds; the delete files go to a manifest of their own, as the spec asks)
    and remove them (`remove_delete_file`: those of data files it removes, which would
    otherwise stay, naming files no longer there, and count in the table's summary), and
    that merges small data manifests as an append does (`commit.manifest-merge.*`):
    pyiceberg's own overwrite never merges, so a table replaced partition by partition
    gathers a manifest per commit and every scan plan reads them all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._removed: dict[str, DataFile] = {}
        self._required: set[str] = set()

    def remove_delete_file(self, delete_file: DataFile) -> None:
        self._removed[delete_file.file_path] = delete_file

    def require_live(self, paths: set[str]) -> None:
        """Files (data or delete) that must still be live when this commits: those the
        delete files it adds name or take over. The caller checks them (`not_live`) on the
        table it starts from; on pyiceberg's own retry (a concurrent commit, rebuilt on the
        new head) `_validate_concurrency` checks them again."""
        self._required |= paths

    def _validate_concurrency(self) -> None:
        super()._validate_concurrency()
        window = self._commit_window
        if window is None or window.is_empty():
            return
        if gone := not_live(window.head, self._io, self._required):
            raise ValidationException(
                f"{len(gone)} file(s) this commit deletes rows of were replaced concurrently"
            )

    def _summary(self, snapshot_properties: dict[str, str] = EMPTY_DICT) -> Summary:
        removed = set(self._removed.values())
        self._deleted_data_files |= removed  # counted as removed, by content
        try:
            return super()._summary(snapshot_properties)
        finally:
            self._deleted_data_files -= removed

    def _delete_manifest(self, spec: PartitionSpec) -> _DeleteManifestWriter:
        """A new manifest of delete files of this snapshot (`new_manifest_writer`'s twin)."""
        return _DeleteManifestWriter(
            spec=spec,
            schema=self.schema(),
            output_file=self.new_manifest_output(),
            snapshot_id=self._snapshot_id,
            avro_compression=self._compression,
        )

    def _without_removed(self, manifest: ManifestFile) -> ManifestFile | None:
        """`manifest`, or, a delete manifest naming a removed delete file, rewritten with the
        others (as existing), or None when it named only removed ones (it leaves the
        snapshot, as pyiceberg's overwrite drops a data manifest whose files are all
        deleted)."""
        if manifest.content != ManifestContent.DELETES:
            return manifest
        entries = manifest.fetch_manifest_entry(self._io, discard_deleted=True)
        kept = [e for e in entries if e.data_file.file_path not in self._removed]
        if len(kept) == len(entries):
            return manifest
        if not kept:
            return None
        writer = self._delete_manifest(self.spec(manifest.partition_spec_id))
        with writer:
            for entry in kept:
                writer.existing(entry)
        return writer.to_manifest_file()

    def _process_manifests(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        if self._removed:
            manifests = [kept for m in manifests if (kept := self._without_removed(m))]
        properties = self._transaction.table_metadata.properties
        merger = _ManifestMergeManager(
            target_size_bytes=property_as_int(  # type: ignore[arg-type]
                properties,
                TableProperties.MANIFEST_TARGET_SIZE_BYTES,
                TableProperties.MANIFEST_TARGET_SIZE_BYTES_DEFAULT,
            ),
            min_count_to_merge=property_as_int(  # type: ignore[arg-type]
                properties,
                TableProperties.MANIFEST_MIN_MERGE_COUNT,
                TableProperties.MANIFEST_MIN_MERGE_COUNT_DEFAULT,
            ),
            merge_enabled=property_as_bool(
                properties,
                TableProperties.MANIFEST_MERGE_ENABLED,
                TableProperties.MANIFEST_MERGE_ENABLED_DEFAULT,
            ),
            snapshot_producer=self,
        )
        data = [m for m in manifests if m.content == ManifestContent.DATA]
        deletes = [  # (one of only deleted entries, written before: it names nothing)
            m
            for m in manifests
            if m.content == ManifestContent.DELETES
            and (m.has_added_files() or m.has_existing_files())
        ]
        return merger.merge_manifests(data) + deletes

    def _manifests(self) -> list[ManifestFile]:
        added = self._added_data_files
        deletes = [f for f in added if f.content == DataFileContent.POSITION_DELETES]
        self._added_data_files = [f for f in added if f.content == DataFileContent.DATA]
        try:
            manifests = super()._manifests()
        finally:
            self._added_data_files = added  # the summary counts both kinds
        if not deletes:
            return manifests
        writer = self._delete_manifest(self._transaction.table_metadata.spec())
        with writer:
            for delete_file in deletes:
                writer.add(
                    ManifestEntry.from_args(
                        status=ManifestEntryStatus.ADDED,
                        snapshot_id=self._snapshot_id,
                        sequence_number=None,
                        file_sequence_number=None,
                        data_file=delete_file,
                    )
                )
        return [*manifests, writer.to_manifest_file()]


def not_live(snapshot: Snapshot | None, io: FileIO, paths: set[str]) -> set[str]:
    """Those of `paths` (data or delete files) that `snapshot` no longer holds (its
    manifests' live entries: read once per process)."""
    if not paths or snapshot is None:
        return set(paths)
    live = {
        entry.data_file.file_path
        for manifest in snapshot.manifests(io)
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=True)
    }
    return paths - live


def row_level_overwrite(update: UpdateSnapshot) -> RowLevelOverwrite:
    """What `update.overwrite()` makes, able to add delete files too (a table with files
    to delete rows of has a snapshot: the operation is an OVERWRITE)."""
    return RowLevelOverwrite(
        operation=Operation.OVERWRITE,
        transaction=update._transaction,
        io=update._io,
        branch=update._branch,
        snapshot_properties=update._snapshot_properties,
    )
