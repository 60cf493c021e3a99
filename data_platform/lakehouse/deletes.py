"""Row-level deletes as Iceberg position-delete files (merge-on-read).

An upsert that replaces a few rows of a large data file need not rewrite the file: an
Iceberg v2 position-delete file lists the (data file, row position) pairs that no longer
count, and every read applies it. pyiceberg 0.12 applies them when it reads (scans, counts,
the training stream's file tasks: every read here goes through it) but has no writer for
them; this module writes them, one small Parquet file per data file touched, its path as
both bounds of `file_path` so that readers match it to that one data file without opening
it, and commits them in a DELETES manifest of the snapshot that adds the new rows.

A delete file whose data file is later rewritten (a partition replaced, compaction) names a
path no live file has: readers never open it, and snapshot expiry removes it with the
snapshots that referenced it.
"""

from __future__ import annotations

import io
import posixpath
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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
from pyiceberg.table import Table, TableProperties
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import UpdateSnapshot, _ManifestMergeManager, _OverwriteFiles
from pyiceberg.transforms import IdentityTransform
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
    table: Table, row_filter: BooleanExpression, columns: list[str], threads: int = 4
) -> KeyRows | None:
    """`columns` of the live rows of the data files `row_filter` selects (files are pruned
    by the filter, rows are not: a file's rows outside it come too), each with its file and
    position; rows that position-delete files removed are left out. The files are read
    directly, in parallel, only those columns (pyiceberg's scan would read the same bytes
    and convert them twice). None when a file lacks a column by name (written before a
    rename): the caller reads through pyiceberg instead."""
    tasks = list(table.scan(row_filter=row_filter).plan_files())
    deleted = _deleted_positions(table, [d for task in tasks for d in task.delete_files])
    # a column the table is identity-partitioned by is its file's partition value: not
    # decoded from the file (a string repeated on every row)
    spec = table.spec().spec_id
    same = all(task.file.spec_id == spec for task in tasks)
    slots = {c: s for c in columns if same and (s := _identity_slot(table, c)) is not None}
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
        frame = frame.with_row_index(POS).select(
            *(
                pl.lit(data_file.partition[slots[c]], types.schema[c]).alias(c)
                if c in slots
                else pl.col(c)
                for c in columns
            ),
            pl.col(POS).cast(pl.Int64),
            pl.lit(index, pl.UInt32).alias(FILE),
        )
        gone = deleted.get(data_file.file_path)
        return frame if gone is None else frame.filter(~pl.col(POS).is_in(gone))

    with ThreadPoolExecutor(threads, thread_name_prefix="key-rows") as pool:
        frames = list(pool.map(read, range(len(tasks))))
    if any(f is None for f in frames):
        return None
    schema = {**types.select(columns).schema, POS: pl.Int64(), FILE: pl.UInt32()}
    rows = pl.concat(
        [pl.DataFrame(schema=schema), *(f for f in frames if f is not None)],
        how="vertical_relaxed",
    )
    return KeyRows([task.file for task in tasks], rows)


def live_rows(table: Table, row_filter: BooleanExpression, column: str) -> dict[str, int]:
    """Live rows per value of the identity partition on `column`, of the data files
    `row_filter` selects, from the manifests alone: their rows less those their delete
    files remove (each position is deleted once: the rows an upsert deletes are live rows,
    found with the deletes before them applied). Empty if `column` is not such a partition."""
    slot = _identity_slot(table, column)
    if slot is None:
        return {}
    totals: dict[str, int] = {}
    deletes: dict[str, tuple[str, int]] = {}
    for task in table.scan(row_filter=row_filter).plan_files():
        if task.file.spec_id != table.spec().spec_id:  # written under an earlier spec
            return {}
        value = str(task.file.partition[slot])
        totals[value] = totals.get(value, 0) + task.file.record_count
        for d in task.delete_files:
            deletes[d.file_path] = (value, d.record_count)
    for value, rows in deletes.values():
        totals[value] -= rows
    return totals


def _identity_slot(table: Table, column: str) -> int | None:
    """Where `column`'s value sits in a data file's partition record, when the table's
    (current) spec partitions by it as it is."""
    source = table.schema().find_field(column).field_id
    for slot, field in enumerate(table.spec().fields):
        if field.source_id == source and isinstance(field.transform, IdentityTransform):
            return slot
    return None


def _deleted_positions(table: Table, deletes: list[DataFile]) -> dict[str, np.ndarray]:
    """Data file path -> positions the given position-delete files remove."""
    found: dict[str, list[np.ndarray]] = {}
    seen: set[str] = set()
    for delete_file in deletes:
        if delete_file.file_path in seen:
            continue
        seen.add(delete_file.file_path)
        with table.io.new_input(delete_file.file_path).open() as stream:
            frame = pl.from_arrow(pq.read_table(stream, columns=["file_path", "pos"]))
        assert isinstance(frame, pl.DataFrame)
        for (path,), group in frame.group_by("file_path"):
            found.setdefault(str(path), []).append(group.get_column("pos").to_numpy())
    return {path: np.concatenate(parts) for path, parts in found.items()}


def write_position_deletes(table: Table, rows: FileRows) -> DataFile:
    """One position-delete file for `rows`, beside its data file; its DataFile entry."""
    path = rows.data_file.file_path
    positions = np.sort(rows.positions)
    body = io.BytesIO()
    pq.write_table(
        pa.table([_repeated(path, len(positions)), positions], schema=_SCHEMA),
        body,
        compression="zstd",
    )
    data = body.getvalue()
    location = posixpath.join(posixpath.dirname(path), f"{uuid.uuid4()}-deletes.parquet")
    with table.io.new_output(location).create(overwrite=True) as out:
        out.write(data)
    encoded = path.encode()
    return DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=location,
        file_format=FileFormat.PARQUET,
        partition=rows.data_file.partition,
        record_count=len(positions),
        file_size_in_bytes=len(data),
        column_sizes={},
        value_counts={PATH_FIELD_ID: len(positions), POS_FIELD_ID: len(positions)},
        null_value_counts={PATH_FIELD_ID: 0, POS_FIELD_ID: 0},
        nan_value_counts={},
        lower_bounds={
            PATH_FIELD_ID: encoded,
            POS_FIELD_ID: int(positions[0]).to_bytes(8, "little", signed=True),
        },
        upper_bounds={
            PATH_FIELD_ID: encoded,
            POS_FIELD_ID: int(positions[-1]).to_bytes(8, "little", signed=True),
        },
        key_metadata=None,
        split_offsets=None,
        equality_ids=None,
        sort_order_id=None,
        spec_id=rows.data_file.spec_id,
    )


def _repeated(value: str, times: int) -> pa.Array:
    """`value` `times` times, as a plain string column (built from one dictionary entry)."""
    indices = pa.array(np.zeros(times, np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value])).cast(pa.string())


def referenced_path(delete_file: DataFile) -> str:
    """The data file a delete file written here applies to."""
    return bytes(delete_file.lower_bounds[PATH_FIELD_ID]).decode()


class _DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg's v2 manifest writer, writing a manifest of delete files."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


class RowLevelOverwrite(_OverwriteFiles):
    """An OVERWRITE snapshot that may also add position-delete files (`append_data_file`
    takes both kinds; the delete files go to a manifest of their own, as the spec asks),
    and that merges small data manifests as an append does (`commit.manifest-merge.*`):
    pyiceberg's own overwrite never merges, so a table replaced partition by partition
    gathers a manifest per commit and every scan plan reads them all."""

    def _process_manifests(self, manifests: list[ManifestFile]) -> list[ManifestFile]:
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
        metadata = self._transaction.table_metadata
        writer = _DeleteManifestWriter(
            spec=metadata.spec(),
            schema=self.schema(),
            output_file=self.new_manifest_output(),
            snapshot_id=self._snapshot_id,
            avro_compression=self._compression,
        )
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
