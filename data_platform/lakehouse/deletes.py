"""Row-level deletes as Iceberg position-delete files (merge-on-read).

An upsert that replaces a few rows of a large data file need not rewrite the file: an
Iceberg v2 position-delete file lists the (data file, row position) pairs that no longer
count, and every read applies it. pyiceberg 0.12 applies them when it reads (scans, counts,
the training stream's file tasks: every read here goes through it) but has no writer for
them; this module writes them, one small Parquet file per partition touched (its
`file_path` bounds the first and last data file it names, so readers open it only for
those), and commits them in a DELETES manifest of the snapshot that adds the new rows.

A commit that removes data files (a partition replaced, compaction) removes their delete
files with them (`RowLevelOverwrite.remove_delete_file`), so the table's summary (records
less position deletes) stays its row count.
"""

from __future__ import annotations

import io
import posixpath
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.expressions import BooleanExpression
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
from pyiceberg.table.snapshots import Operation, Summary
from pyiceberg.table.update.snapshot import UpdateSnapshot, _ManifestMergeManager, _OverwriteFiles
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import EMPTY_DICT
from pyiceberg.utils.properties import property_as_bool, property_as_int

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


@dataclass(frozen=True)
class KeyRows:
    """Live rows of some data files of a table: the columns read, each row's file and
    position. What an upsert needs to find the rows it replaces and to delete them."""

    files: list[DataFile]
    rows: pl.DataFrame

    def positions(self, keys: pl.DataFrame, key: list[str]) -> list[FileRows]:
        """The rows whose `key` is among `keys`, file by file."""
        wanted = keys.select(pl.col(c).cast(self.rows.schema[c]) for c in key)
        hit = self.rows.join(wanted, on=key, how="semi", nulls_equal=False)
        return [
            FileRows(self.files[int(index)], group.get_column(POS).to_numpy().astype(np.int64))
            for (index,), group in hit.group_by(FILE)
        ]


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
        pending = pool.submit(_deleted_positions, table, deletes)
        found = _key_rows(table, tasks, columns, among, threads)
        deleted = pending.result()
    if found is None:
        return None
    gone = [
        pl.DataFrame(
            {
                FILE: pl.repeat(i, len(deleted[t.file.file_path]), dtype=pl.UInt32, eager=True),
                POS: deleted[t.file.file_path],
            }
        )
        for i, t in enumerate(tasks)
        if t.file.file_path in deleted
    ]
    if gone:
        found = found.join(pl.concat(gone), on=[FILE, POS], how="anti")
    return KeyRows([task.file for task in tasks], found)


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
        with table.io.new_input(data_file.file_path).open() as stream:
            parquet = pq.ParquetFile(stream)
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
    for slot, field in enumerate(table.spec().fields):
        if field.source_id == source and isinstance(field.transform, IdentityTransform):
            return slot
    return None


def _deleted_positions(table: Table, deletes: list[DataFile]) -> dict[str, np.ndarray]:
    """Data file path -> positions the given position-delete files remove (read in
    parallel, each once)."""
    unique = list({d.file_path: d for d in deletes})

    def read(path: str) -> pl.DataFrame:
        with table.io.new_input(path).open() as stream:
            frame = pl.from_arrow(pq.read_table(stream, columns=["file_path", "pos"]))
        assert isinstance(frame, pl.DataFrame)
        return frame

    found: dict[str, list[np.ndarray]] = {}
    with ThreadPoolExecutor(8, thread_name_prefix="deletes") as pool:
        for frame in pool.map(read, unique):
            for (path,), group in frame.group_by("file_path"):
                found.setdefault(str(path), []).append(group.get_column("pos").to_numpy())
    return {path: np.concatenate(parts) for path, parts in found.items()}


def write_position_deletes(table: Table, rows: list[FileRows]) -> DataFile:
    """One position-delete file for `rows` (data files of one partition), beside the first
    of them; its DataFile entry. Its `file_path` bounds are the first and last path it
    names: a reader opens it only for data files within them (when it names one data file,
    for that one alone)."""
    ordered = sorted(rows, key=lambda r: r.data_file.file_path)
    paths = [r.data_file.file_path for r in ordered]
    positions = np.concatenate([np.sort(r.positions) for r in ordered])
    which = np.repeat(np.arange(len(ordered), dtype=np.int32), [r.rows for r in ordered])
    names = pa.DictionaryArray.from_arrays(pa.array(which), pa.array(paths)).cast(pa.string())
    body = io.BytesIO()
    pq.write_table(pa.table([names, positions], schema=_SCHEMA), body, compression="zstd")
    data = body.getvalue()
    location = posixpath.join(posixpath.dirname(paths[0]), f"{uuid.uuid4()}-deletes.parquet")
    with table.io.new_output(location).create(overwrite=True) as out:
        out.write(data)
    return DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=location,
        file_format=FileFormat.PARQUET,
        partition=ordered[0].data_file.partition,
        record_count=len(positions),
        file_size_in_bytes=len(data),
        column_sizes={},
        value_counts={PATH_FIELD_ID: len(positions), POS_FIELD_ID: len(positions)},
        null_value_counts={PATH_FIELD_ID: 0, POS_FIELD_ID: 0},
        nan_value_counts={},
        lower_bounds={
            PATH_FIELD_ID: paths[0].encode(),
            POS_FIELD_ID: int(positions.min()).to_bytes(8, "little", signed=True),
        },
        upper_bounds={
            PATH_FIELD_ID: paths[-1].encode(),
            POS_FIELD_ID: int(positions.max()).to_bytes(8, "little", signed=True),
        },
        key_metadata=None,
        split_offsets=None,
        equality_ids=None,
        sort_order_id=None,
        spec_id=ordered[0].data_file.spec_id,
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

    def remove_delete_file(self, delete_file: DataFile) -> None:
        self._removed[delete_file.file_path] = delete_file

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

    def _without_removed(self, manifest: ManifestFile) -> ManifestFile:
        """A delete manifest naming a removed delete file, rewritten: the others existing,
        the removed ones deleted (by this snapshot)."""
        writer = self._delete_manifest(self.spec(manifest.partition_spec_id))
        with writer:
            for entry in manifest.fetch_manifest_entry(self._io, discard_deleted=True):
                if entry.data_file.file_path in self._removed:
                    writer.delete(entry)
                else:
                    writer.existing(entry)
        return writer.to_manifest_file()

    def _process_manifests(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
        removed = self._removed
        if removed:
            manifests = [
                self._without_removed(m)
                if m.content == ManifestContent.DELETES
                and any(
                    e.data_file.file_path in removed
                    for e in m.fetch_manifest_entry(self._io, discard_deleted=True)
                )
                else m
                for m in manifests
            ]
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
        deletes = [m for m in manifests if m.content == ManifestContent.DELETES]
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
