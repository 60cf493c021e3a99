"""Write modes and reads over Iceberg tables, each reporting the snapshot it touched.

Every write returns a `WriteResult` naming the snapshot *it* committed (not whatever is
current afterwards: under concurrency that can be another writer's); every read returns a
`ReadResult` naming the snapshot it read. Assets put both in their metadata, which is how
"which data produced this?" gets an answer. Commits are retried on conflict and keep the
history bounded (`commit.py`); a partition is written in batches by `PartitionWriter`.
"""

from __future__ import annotations

import base64
import io
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, EqualTo, In
from pyiceberg.io.pyarrow import (
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
    schema_to_pyarrow,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.table import Table, TableProperties
from pyiceberg.table.snapshots import Snapshot

from data_platform.contracts.columns import former_renames
from data_platform.lakehouse.commit import (
    CommitPolicy,
    Transaction,
    retrying,
    snapshot_facts,
    trim_history,
)
from data_platform.lakehouse.deletes import (
    Earlier,
    FileRows,
    RowsMoved,
    not_live,
    row_level_overwrite,
    write_position_deletes,
)
from data_platform.lakehouse.schema_policy import evolve_schema

DELETE_THREADS = 4  # a writer's position-delete files, written side by side (small PUTs)

# every table: merge small manifests on append (bounded manifest lists), and keep only a
# few old metadata files (each commit writes one)
TABLE_PROPERTIES = {
    "commit.manifest-merge.enabled": "true",
    # a scan plan reads every manifest: merge them once there are 20 (Iceberg's default 100)
    "commit.manifest.min-count-to-merge": "20",
    # zstd at level 1 writes twice as fast as the default level 3, for files 3% larger
    "write.parquet.compression-codec": "zstd",
    "write.parquet.compression-level": "1",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
}


@dataclass(frozen=True)
class WriteResult:
    """One commit: which table, which mode, how many rows went in, the snapshot it made."""

    table: str
    mode: str
    rows_written: int
    snapshot_id: int | None
    location: str
    table_rows: int
    inputs: dict[str, int | None] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "write_mode": self.mode,
            "rows_written": self.rows_written,
            "table_rows": self.table_rows,
            "snapshot_id": self.snapshot_id,
            "table_location": self.location,
            "input_snapshots": dict(self.inputs),
        }


@dataclass(frozen=True)
class ReadResult:
    """Rows read from a table, and the snapshot they were read at (None: empty table)."""

    table: str
    data: pa.Table
    snapshot_id: int | None


def _identifier(table: str) -> tuple[str, str]:
    namespace, _, name = table.partition(".")
    if not namespace or not name:
        raise ValueError(f"table {table!r} must be '<layer>.<name>', e.g. 'raw.reviews'")
    return namespace, name


class Lakehouse:
    """Iceberg tables by name (`layer.table`), with the write modes the assets need."""

    def __init__(self, catalog: Catalog, policy: CommitPolicy | None = None) -> None:
        self.catalog = catalog
        self.policy = policy or CommitPolicy()

    # -- tables ----------------------------------------------------------------------------
    def load(self, table: str) -> Table | None:
        try:
            return self.catalog.load_table(_identifier(table))
        except NoSuchTableError:
            return None

    def ensure_table(
        self,
        table: str,
        schema: pa.Schema,
        partition_by: str | None,
        properties: dict[str, str] | None = None,
    ) -> Table:
        """Create the table (and its namespace), or evolve it to `schema` under the policy.

        `properties` are set on the table (e.g. the contract version that wrote it).
        """
        namespace, _ = _identifier(table)
        existing = self.load(table)
        if existing is None:
            self.catalog.create_namespace_if_not_exists(namespace)
            existing = self.catalog.create_table_if_not_exists(
                _identifier(table), schema=schema, properties=TABLE_PROPERTIES
            )
            if partition_by and not existing.spec().fields:
                with existing.update_spec() as spec:
                    spec.add_identity(partition_by)
        else:
            evolve_schema(existing, schema)
        stale = {k: v for k, v in (properties or {}).items() if existing.properties.get(k) != v}
        if stale:
            with existing.transaction() as tx:
                tx.set_properties(stale)
        return existing  # its commits above updated it in place: no reload

    def rename_former_columns(self, table: str) -> dict[str, str]:
        """Give a derived table's platform columns their current names; returns the renames.

        For the tables built from staged rows (embedded, labeled) that an earlier version
        wrote with `source_key`, `snapshot_id` or `staged_snapshot_id`; never for raw, staged
        or transformed, where a contract's own column may carry such a name.
        """
        loaded = self.load(table)
        if loaded is None:
            return {}
        renames = former_renames(loaded.schema().column_names)
        if renames:
            with loaded.update_schema() as update:
                for former, current in renames.items():
                    update.rename_column(former, current)
        return renames

    def rename_columns(self, table: str, renames: dict[str, str]) -> dict[str, str]:
        """Rename columns in place (Iceberg keeps their data and field ids): each former
        name the table has and whose new name it lacks. Returns the renames applied."""
        if not renames:
            return {}
        loaded = self.load(table)
        if loaded is None:
            return {}
        names = set(loaded.schema().column_names)
        todo = {old: new for old, new in renames.items() if old in names and new not in names}
        if todo:
            with loaded.update_schema() as update:
                for old, new in todo.items():
                    update.rename_column(old, new)
        return todo

    def resolve_snapshot(self, table: str, ref: str | int | None) -> int | None:
        """The snapshot id that `ref` names in `table`: a tag or branch name, an id, or a
        time (ISO 8601, e.g. `2026-12-01T00:00Z`; no offset is UTC): the snapshot that was
        current then.

        None means the current snapshot. Raises LookupError naming the table and the ref.
        """
        if ref is None or ref == "":
            return self.snapshot_id(table)
        loaded = self.load(table)
        if loaded is None:
            raise LookupError(f"table {table} does not exist yet: materialise it first")
        named = loaded.snapshot_by_name(str(ref))
        if named is not None:
            return named.snapshot_id
        if str(ref).lstrip("-").isdigit() and loaded.snapshot_by_id(int(ref)) is not None:
            return int(ref)
        when = as_time(str(ref))
        if when is not None:
            at = loaded.snapshot_as_of_timestamp(int(when.timestamp() * 1000))
            if at is None:
                raise LookupError(f"table {table} had no snapshot yet at {when.isoformat()}")
            return at.snapshot_id
        tags = sorted(loaded.metadata.refs)
        raise LookupError(f"table {table} has no snapshot or tag {ref!r} (refs: {tags})")

    def tables(self) -> list[str]:
        """Every table of the catalog, as `layer.name`."""
        return sorted(
            ".".join(identifier)
            for namespace in self.catalog.list_namespaces()
            for identifier in self.catalog.list_tables(namespace)
        )

    def tag(self, name: str, tables: list[str] | None = None) -> dict[str, int]:
        """Tag the current snapshot of each table (default: all) as `name`; replaces a tag."""
        tagged = {}
        for table in tables or self.tables():
            loaded = self.load(table)
            snapshot = loaded.current_snapshot() if loaded else None
            if loaded is None or snapshot is None:
                continue
            manage = loaded.manage_snapshots()
            if name in loaded.metadata.refs:
                manage = manage.remove_tag(name)
            manage.create_tag(snapshot.snapshot_id, name).commit()
            tagged[table] = snapshot.snapshot_id
        return tagged

    def snapshot_id(self, table: str) -> int | None:
        loaded = self.load(table)
        snapshot = loaded.current_snapshot() if loaded else None
        return snapshot.snapshot_id if snapshot else None

    # -- writes ------------------------------------------------------------------------------
    def append(self, table: str, data: pa.Table, *, partition_by: str | None = None) -> WriteResult:
        self.ensure_table(table, data.schema, partition_by)

        def attempt(target: Table) -> Table:
            target.append(_conform(data, target))
            return target

        return self._result(table, "append", data.num_rows, self._commit(table, attempt))

    def overwrite_partition(
        self,
        table: str,
        data: pa.Table,
        *,
        column: str,
        value: str,
        properties: dict[str, str] | None = None,
    ) -> WriteResult:
        """Replace exactly the rows where `column == value` with `data` (idempotent)."""
        writer = self.partition_writer(table, data.schema, column=column, values=[value])
        writer.add(data)
        return writer.commit(properties)

    def partition_writer(
        self,
        table: str,
        schema: pa.Schema,
        *,
        column: str,
        values: Sequence[str],
        table_properties: dict[str, str] | None = None,
    ) -> PartitionWriter:
        """A writer that adds batches to the partitions `column` in `values`, then commits
        them all in one snapshot."""
        target = self.ensure_table(table, schema, column, table_properties)
        return PartitionWriter(self, table, target, column, values)

    def replace(self, table: str, data: pa.Table) -> WriteResult:
        """Replace the whole table's rows with `data`, in one snapshot."""
        self.ensure_table(table, data.schema, None)

        def attempt(target: Table) -> Table:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Delete operation did not match any records")
                target.overwrite(_conform(data, target))
            return target

        return self._result(table, "replace", data.num_rows, self._commit(table, attempt))

    def delete_partition(
        self, table: str, *, column: str, values: Sequence[str]
    ) -> WriteResult | None:
        """Remove the rows where `column` is in `values`; None if the table does not exist."""
        target = self.load(table)
        if target is None:
            return None
        writer = PartitionWriter(self, table, target, column, values)
        return writer.commit()

    def upsert(self, table: str, data: pa.Table, *, join_cols: list[str]) -> WriteResult:
        """Update rows that match on `join_cols`, insert the others."""
        self.ensure_table(table, data.schema, None)
        written = 0

        def attempt(target: Table) -> Table:
            nonlocal written
            outcome = target.upsert(_conform(data, target), join_cols=join_cols)
            written = outcome.rows_updated + outcome.rows_inserted
            return target

        committed = self._commit(table, attempt)
        return self._result(table, "upsert", written, committed)

    def _commit(
        self, table: str, attempt: Callable[[Table], Table], first: Table | None = None
    ) -> Table:
        """Run `attempt(table)` until it commits (first on `first`, if given); the table as
        it committed."""
        committed = retrying(lambda: self._must_load(table), attempt, self.policy, first=first)
        trim_history(committed, self.policy.keep_snapshots)
        return committed

    def _must_load(self, table: str) -> Table:
        loaded = self.load(table)
        if loaded is None:
            raise LookupError(f"table {table} does not exist yet: materialise it first")
        return loaded

    # -- reads -------------------------------------------------------------------------------
    def read(
        self,
        table: str,
        *,
        row_filter: BooleanExpression | None = None,
        snapshot_id: int | None = None,
        columns: tuple[str, ...] = ("*",),
    ) -> ReadResult:
        """Rows of `table` (optionally filtered, optionally as of a snapshot).

        The current rows are read with the table's current schema (a column renamed since
        the last write has its new name); an older snapshot with the schema it was written in.
        """
        loaded = self.load(table)
        if loaded is None:
            raise LookupError(f"table {table} does not exist yet: materialise it first")
        snap = snapshot_id or (s.snapshot_id if (s := loaded.current_snapshot()) else None)
        if snap is None:
            return ReadResult(table, loaded.schema().as_arrow().empty_table(), None)
        scan = loaded.scan(
            row_filter=row_filter or AlwaysTrue(),
            snapshot_id=snapshot_id,  # None: the current snapshot `snap`, in the current schema
            selected_fields=columns,
        )
        return ReadResult(table, scan.to_arrow(), snap)

    def read_partition(
        self, table: str, *, column: str, value: str, snapshot_id: int | None = None
    ) -> ReadResult:
        # pyiceberg: pydantic's synthesised __init__ hides the positional one from mypy
        predicate = EqualTo(column, value)  # type: ignore[call-arg, arg-type]
        return self.read(table, row_filter=predicate, snapshot_id=snapshot_id)

    def count(self, table: str, row_filter: BooleanExpression | None = None) -> int:
        loaded = self.load(table)
        if loaded is None or loaded.current_snapshot() is None:
            return 0
        return loaded.scan(row_filter=row_filter or AlwaysTrue()).count()

    def _result(self, table: str, mode: str, rows: int, committed: Table) -> WriteResult:
        """The write's result, from the table object that made the commit (its own snapshot)."""
        snapshot: Snapshot | None = committed.current_snapshot()
        snapshot_id = snapshot.snapshot_id if snapshot else None
        return WriteResult(
            table=table,
            mode=mode,
            rows_written=rows,
            snapshot_id=snapshot_id,
            location=committed.location(),
            **snapshot_facts(committed, snapshot_id),
        )

    def digest(
        self, table: str, columns: tuple[str, ...] = ("*",), *, snapshot_id: int | None = None
    ) -> tuple[int, str]:
        """Rows and an order-independent digest of `columns`, read from the data files.

        `count` adds up the manifests' record counts and opens no data file, so it stays
        right when a committed file is missing or truncated; this reads every row the scan
        plans (batch by batch: memory follows a batch), so such a file raises here instead.
        The digest is the sum modulo 2**64 of polars' row hashes (seed 0) as 16 hex digits:
        the same for the same rows in any order or file layout, different when a row is
        lost, duplicated or changed. Compare digests made by one polars version only.
        """
        loaded = self._must_load(table)
        if snapshot_id is None and loaded.current_snapshot() is None:
            return 0, f"{0:016x}"
        rows, total, word = 0, 0, pl.lit(2**32, pl.UInt64)
        scan = loaded.scan(snapshot_id=snapshot_id, selected_fields=columns)
        for batch in scan.to_arrow_batch_reader():
            frame = pl.DataFrame(pl.from_arrow(batch))
            frame = frame if columns == ("*",) else frame.select(columns)
            hashes = pl.col("h")
            # both halves of each 64-bit hash summed apart: no sum of a batch overflows
            halves = (
                frame.hash_rows(seed=0)
                .to_frame("h")
                .select((hashes % word).sum(), (hashes // word).sum().alias("high"))
            )
            low, high = halves.row(0)
            total = (total + (high << 32) + low) % 2**64
            rows += frame.height
        return rows, f"{total:016x}"


class PartitionWriter:
    """Writes partitions of a table in batches, then replaces them all in one snapshot.

    The partitions are the values of `column` in `values` (one upload each, for ingestion:
    a batch of uploads commits once per table). `add` hands each frame to a background
    thread that encodes and uploads its data files, one per partition value (Parquet
    encoding and S3 I/O release the GIL, so the caller prepares the next frame meanwhile);
    at most `IN_FLIGHT` frames wait, so memory follows the frame, not the partitions.
    `commit` waits for the files, then makes one snapshot that removes the old files of
    every partition in `values` and adds the new ones, re-done on a fresh table if another
    writer committed meanwhile (the data files are written once, only the metadata is
    redone). A partition given no rows is emptied. `discard(value)` drops what was written
    for one partition (it is emptied, as if given nothing); `abort` deletes every file of a
    write that will not be committed.
    """

    IN_FLIGHT = 1

    def __init__(
        self, lake: Lakehouse, table: str, target: Table, column: str, values: Sequence[str]
    ):
        self.lake = lake
        self.table = table
        self.target = target
        self.column = column
        self.values = list(dict.fromkeys(values))
        self._known = set(self.values)
        self.files: list[DataFile] = []
        self.rows = 0
        self._rows_of: dict[str, int] = {}
        # the table's columns as polars types: batches are conformed in polars, no copy
        # through Arrow on the way to the Parquet encoder
        empty = pl.from_arrow(target.schema().as_arrow().empty_table())
        assert isinstance(empty, pl.DataFrame)
        self.schema = empty.schema
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"write-{table}")
        self._pending: deque[tuple[str, Future[DataFile]]] = deque()
        self._value_of: dict[str, str] = {}  # data file path -> its partition value
        # called with the fresh table before each commit attempt: raises if what this write
        # was computed from has changed (another writer committed meanwhile)
        self.guard: Callable[[Table], None] | None = None
        self.deletes: list[DataFile] = []  # position-delete files, committed with the rows
        self._deleting: list[Future[DataFile]] = []  # (being written)
        self._delete_pool: ThreadPoolExecutor | None = None
        self._delete_targets: set[str] = set()  # the data files they name
        self._replaced_deletes: dict[str, DataFile] = {}  # earlier delete files they replace

    def add(self, data: pl.DataFrame | pa.Table) -> None:
        frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
        if not frame.height:
            return
        column = frame.get_column(self.column)
        first = column[0]
        if column.n_unique() == 1 and first in self._known:
            parts = [(str(first), frame)]
        else:
            found = set(column.unique().to_list())
            if not found <= self._known:
                raise ValueError(
                    f"overwrite of partitions {self.column} in {_shown(self.values)} got rows "
                    f"for {_shown(sorted(found - self._known, key=str))}"
                )
            parts = [(str(v), frame.filter(pl.col(self.column) == v)) for v in sorted(found)]
        for value, part in parts:
            conformed = part.select(
                _conformed(part.schema.get(name), name, dtype)
                for name, dtype in self.schema.items()
            )
            self._collect(keep=self.IN_FLIGHT - 1)
            self._pending.append(
                (value, self._pool.submit(write_data_file, self.target, conformed))
            )
            self.rows += part.height
            self._rows_of[value] = self._rows_of.get(value, 0) + part.height

    def include(self, values: Sequence[str]) -> None:
        """Replace these partitions too (on commit: with what is added for them, or nothing)."""
        for value in values:
            if value not in self._known:
                self._known.add(value)
                self.values.append(value)

    def delete_rows(self, rows: list[FileRows], earlier: Earlier | None = None) -> None:
        """Delete these rows of live files (of one partition) in the commit (merge-on-read:
        one position-delete file for them, which takes over the rows of the `earlier` delete
        files on those data files, removed in the commit; the data files themselves stay).
        The file is written in the background, beside the caller's next one."""
        if not rows:
            return
        if self._delete_pool is None:
            self._delete_pool = ThreadPoolExecutor(DELETE_THREADS, thread_name_prefix="deletes")
        self._deleting.append(
            self._delete_pool.submit(write_position_deletes, self.target, rows, earlier)
        )
        self._delete_targets.update(r.data_file.file_path for r in rows)
        if earlier is not None:
            self._replaced_deletes.update((d.file_path, d) for d in earlier.files)

    def rows_of(self, value: str) -> int:
        """Rows added for partition `value` (and not discarded)."""
        return self._rows_of.get(value, 0)

    def discard(self, value: str) -> None:
        """Forget (and delete) what was written for `value`: it is emptied on commit."""
        self._collect()
        kept: list[DataFile] = []
        dropped: list[DataFile] = []
        for data_file in self.files:
            (dropped if self._value_of.get(data_file.file_path) == value else kept).append(
                data_file
            )
        self.files = kept
        self.rows -= self._rows_of.pop(value, 0)
        _delete_files(self.target, dropped)

    def _collect(self, keep: int = 0) -> None:
        """Wait for written files until at most `keep` writes are still in flight."""
        while len(self._pending) > keep:
            value, future = self._pending.popleft()
            data_file = future.result()
            self._value_of[data_file.file_path] = value
            self.files.append(data_file)

    def _drain(self) -> None:
        try:
            self._collect()
            self.deletes += [future.result() for future in self._deleting]
            self._deleting = []
        finally:
            self._pool.shutdown(wait=True)
            if self._delete_pool is not None:
                self._delete_pool.shutdown(wait=True)

    def commit(self, properties: dict[str, str] | None = None) -> WriteResult:
        """Replace the partitions with what was added (nothing added: delete them)."""
        predicate = partitions_predicate(self.column, self.values)
        committed_id: int | None = None
        try:
            self._drain()
        except BaseException:
            self.abort()
            raise

        def attempt(table: Table) -> Table:
            nonlocal committed_id
            if self.guard is not None:
                self.guard(table)
            tasks = list(table.scan(row_filter=predicate).plan_files())
            old = [task.file for task in tasks]
            if not old and not self.files and not self.deletes:
                current = table.current_snapshot()
                committed_id = current.snapshot_id if current else None
                return table
            tx = Transaction(table)
            update = tx.update_snapshot(snapshot_properties=properties or {})
            # the files the delete files name or take over, still live (checked again on
            # pyiceberg's own retry, by the producer)
            required = self._delete_targets | set(self._replaced_deletes)
            if gone := not_live(table.current_snapshot(), table.io, required):
                raise RowsMoved(
                    f"{len(gone)} file(s) of {'.'.join(table.name()[-2:])} whose rows this "
                    "write deletes were replaced since they were read (another writer "
                    "committed): decided again on the new state"
                )
            producer: Any = (
                row_level_overwrite(update) if old or self.deletes else update.merge_append()
            )
            if old:
                producer.delete_by_predicate(predicate)
                for data_file in old:
                    producer.delete_data_file(data_file)
                for task in tasks:  # and the delete files of the rows they held
                    for delete_file in task.delete_files:
                        producer.remove_delete_file(delete_file)
            if required:
                producer.require_live(required)
            for delete_file in self._replaced_deletes.values():  # taken over by new ones
                producer.remove_delete_file(delete_file)
            for data_file in [*self.files, *self.deletes]:
                producer.append_data_file(data_file)
            producer.commit()
            tx.commit_transaction()
            committed_id = producer.snapshot_id
            return table

        try:
            committed = self.lake._commit(self.table, attempt, first=self.target)
        except BaseException:
            self.abort()
            raise
        mode = "overwrite_partition" if self.files else "delete_partition"
        return WriteResult(
            table=self.table,
            mode=mode,
            rows_written=self.rows,
            snapshot_id=committed_id,
            location=committed.location(),
            **snapshot_facts(committed, committed_id),
        )

    def abort(self) -> None:
        """Delete the data files written so far (they were never committed)."""
        for _, future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True)
        self.files += [
            future.result()
            for _, future in self._pending
            if future.done() and not future.cancelled() and future.exception() is None
        ]
        self._pending.clear()
        if self._delete_pool is not None:
            self._delete_pool.shutdown(wait=True)
        self.deletes += [future.result() for future in self._deleting if future.exception() is None]
        self._deleting = []
        _delete_files(self.target, [*self.files, *self.deletes])
        self.files = []
        self.deletes = []


def as_time(ref: str) -> datetime | None:
    """`ref` as a UTC time if it is one (ISO 8601; a date is its midnight), else None."""
    if not ref[:4].isdigit() or "-" not in ref:
        return None
    try:
        when = datetime.fromisoformat(ref)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def partitions_predicate(column: str, values: Sequence[str]) -> BooleanExpression:
    # pyiceberg: pydantic's synthesised __init__ hides the positional one from mypy
    if len(values) == 1:
        return EqualTo(column, values[0])  # type: ignore[call-arg, arg-type]
    return In(column, set(values))  # type: ignore[call-arg, arg-type]


def _delete_files(table: Table, files: list[DataFile]) -> None:
    for data_file in files:
        try:
            table.io.delete(data_file.file_path)
        except OSError:
            pass  # orphan removal in maintenance collects what is left


def _shown(values: Sequence[Any], limit: int = 5) -> str:
    head = ", ".join(repr(v) for v in values[:limit])
    return f"[{head}{f', ... ({len(values)} in all)' if len(values) > limit else ''}]"


def parquet_options(properties: dict[str, str]) -> dict[str, Any]:
    """How polars should encode a table's Parquet files, from its properties (Iceberg's
    names): codec, level and rows per row group (`write.parquet.row-group-limit`, 1,048,576
    by default, as in pyiceberg's own writer; without it polars cuts a row group per chunk
    of the frame, which costs a third more CPU for larger files)."""
    level = properties.get("write.parquet.compression-level")
    return {
        "compression": properties.get("write.parquet.compression-codec", "zstd"),
        "compression_level": int(level) if level else None,
        "row_group_size": int(
            properties.get(
                TableProperties.PARQUET_ROW_GROUP_LIMIT,
                TableProperties.PARQUET_ROW_GROUP_LIMIT_DEFAULT,
            )
        ),
    }


def write_data_file(table: Table, frame: pl.DataFrame) -> DataFile:
    """Write `frame` (already in the table's schema) as one Parquet data file of `table`.

    Encoded by polars, which is 2.5x faster than pyarrow's writer here and makes smaller
    files, with the table's field ids in the file schema (a proper Iceberg data file); the
    file's statistics come from its own footer, as pyiceberg's `add_files` takes them.
    """
    metadata = table.metadata
    schema = schema_to_pyarrow(metadata.schema())
    buffer = io.BytesIO()
    frame.write_parquet(
        buffer,
        arrow_schema=_encoder_schema(schema, frame),
        # the Arrow schema readers see is the table's (large strings, no dictionaries:
        # in Parquet, views and dictionaries are only encodings of the same column)
        metadata={"ARROW:schema": base64.b64encode(schema.serialize().to_pybytes()).decode()},
        **parquet_options(metadata.properties),
    )
    body = buffer.getvalue()
    path = table.location_provider().new_data_location(f"{uuid.uuid4()}.parquet")
    with table.io.new_output(path).create(overwrite=True) as out:
        out.write(body)
    footer = pq.read_metadata(pa.BufferReader(body))
    statistics = data_file_statistics_from_parquet_metadata(
        parquet_metadata=footer,
        stats_columns=compute_statistics_plan(metadata.schema(), metadata.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(metadata.schema()),
    )
    return DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=path,
        file_format=FileFormat.PARQUET,
        partition=statistics.partition(metadata.spec(), metadata.schema()),
        file_size_in_bytes=len(body),
        sort_order_id=None,
        spec_id=metadata.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **statistics.to_serialized_dict(),
    )


def _conformed(source: pl.DataType | None, name: str, dtype: pl.DataType) -> pl.Expr:
    """Column `name` as the table's `dtype`; an Enum stays one for a string column (it is
    written as a dictionary of the same strings: `_encoder_schema`)."""
    if source is None:
        return pl.lit(None, dtype).alias(name)
    if isinstance(source, pl.Enum) and dtype == pl.String:
        return pl.col(name)
    return pl.col(name).cast(dtype)


def _encoder_schema(schema: pa.Schema, frame: pl.DataFrame) -> pa.Schema:
    """The table's Arrow schema (field ids included) in the types `frame` holds, so the
    encoder takes its columns as they are: strings as views (polars' own; large strings
    would be a copy of every string first) and each Enum as a dictionary (its codes and
    values, where for a string it would hash every value to find whether a dictionary
    pays). The Parquet columns are the table's string columns either way."""
    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Enum)]
    types = frame.select(enums).head(0).to_arrow().schema
    for index, column in enumerate(schema):
        if column.name in enums:
            schema = schema.set(index, column.with_type(types.field(column.name).type))
        elif pa.types.is_large_string(column.type):
            schema = schema.set(index, column.with_type(pa.string_view()))
    return schema


def _conform(data: pa.Table, target: Table) -> pa.Table:
    """Order and cast `data` to the table's arrow schema (missing columns become null)."""
    schema = target.schema().as_arrow()
    arrays = []
    for fld in schema:
        if fld.name in data.column_names:
            arrays.append(data.column(fld.name).cast(fld.type))
        else:
            arrays.append(pa.nulls(data.num_rows, fld.type))
    return pa.Table.from_arrays(arrays, schema=schema)
