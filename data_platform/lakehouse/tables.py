"""Write modes and reads over Iceberg tables, each reporting the snapshot it touched.

Every write returns a `WriteResult` naming the snapshot it committed; every read returns a
`ReadResult` naming the snapshot it read. Assets put both in their metadata, which is how
"which data produced this?" gets an answer.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, EqualTo
from pyiceberg.table import Table

from data_platform.lakehouse.schema_policy import evolve_schema


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

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- tables ----------------------------------------------------------------------------
    def load(self, table: str) -> Table | None:
        try:
            return self.catalog.load_table(_identifier(table))
        except NoSuchTableError:
            return None

    def ensure_table(self, table: str, schema: pa.Schema, partition_by: str | None) -> Table:
        """Create the table (and its namespace), or evolve it to `schema` under the policy."""
        namespace, _ = _identifier(table)
        existing = self.load(table)
        if existing is not None:
            evolve_schema(existing, schema)
            return existing
        self.catalog.create_namespace_if_not_exists(namespace)
        created = self.catalog.create_table_if_not_exists(_identifier(table), schema=schema)
        if partition_by:
            with created.update_spec() as spec:
                spec.add_identity(partition_by)
        return self.catalog.load_table(_identifier(table))

    def resolve_snapshot(self, table: str, ref: str | int | None) -> int | None:
        """The snapshot id that `ref` names in `table`: a tag or branch name, or an id.

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
        target = self.ensure_table(table, data.schema, partition_by)
        target.append(_conform(data, target))
        return self._result(table, "append", data.num_rows)

    def overwrite_partition(
        self, table: str, data: pa.Table, *, column: str, value: str
    ) -> WriteResult:
        """Replace exactly the rows where `column == value` with `data` (idempotent)."""
        target = self.ensure_table(table, data.schema, column)
        with warnings.catch_warnings():
            # a first write of a partition deletes nothing; pyiceberg warns, we expect it
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            if data.num_rows:
                _check_single_partition(data, column, value)
                # one snapshot that replaces the partition (identity-partitioned by `column`)
                target.dynamic_partition_overwrite(_conform(data, target))
            else:
                target.delete(EqualTo(column, value))
        return self._result(table, "overwrite_partition", data.num_rows)

    def replace(self, table: str, data: pa.Table) -> WriteResult:
        """Replace the whole table's rows with `data`, in one snapshot."""
        target = self.ensure_table(table, data.schema, None)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            target.overwrite(_conform(data, target))
        return self._result(table, "replace", data.num_rows)

    def delete_partition(self, table: str, *, column: str, value: str) -> WriteResult | None:
        """Remove the rows where `column == value`; None if the table does not exist."""
        target = self.load(table)
        if target is None:
            return None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            target.delete(EqualTo(column, value))
        return self._result(table, "delete_partition", 0)

    def upsert(self, table: str, data: pa.Table, *, join_cols: list[str]) -> WriteResult:
        """Update rows that match on `join_cols`, insert the others."""
        target = self.ensure_table(table, data.schema, None)
        outcome = target.upsert(_conform(data, target), join_cols=join_cols)
        written = outcome.rows_updated + outcome.rows_inserted
        return self._result(table, "upsert", written)

    # -- reads -------------------------------------------------------------------------------
    def read(
        self,
        table: str,
        *,
        row_filter: BooleanExpression | None = None,
        snapshot_id: int | None = None,
        columns: tuple[str, ...] = ("*",),
    ) -> ReadResult:
        """Rows of `table` (optionally filtered, optionally as of a snapshot)."""
        loaded = self.load(table)
        if loaded is None:
            raise LookupError(f"table {table} does not exist yet: materialise it first")
        snap = snapshot_id or (s.snapshot_id if (s := loaded.current_snapshot()) else None)
        if snap is None:
            return ReadResult(table, loaded.schema().as_arrow().empty_table(), None)
        scan = loaded.scan(
            row_filter=row_filter or AlwaysTrue(), snapshot_id=snap, selected_fields=columns
        )
        return ReadResult(table, scan.to_arrow(), snap)

    def read_partition(
        self, table: str, *, column: str, value: str, snapshot_id: int | None = None
    ) -> ReadResult:
        return self.read(table, row_filter=EqualTo(column, value), snapshot_id=snapshot_id)

    def count(self, table: str, row_filter: BooleanExpression | None = None) -> int:
        loaded = self.load(table)
        if loaded is None or loaded.current_snapshot() is None:
            return 0
        return loaded.scan(row_filter=row_filter or AlwaysTrue()).count()

    def _result(self, table: str, mode: str, rows: int) -> WriteResult:
        loaded = self.load(table)
        assert loaded is not None
        snapshot = loaded.current_snapshot()
        summary = snapshot.summary if snapshot else None
        total = int(summary.get("total-records", 0)) if summary else 0
        return WriteResult(
            table=table,
            mode=mode,
            rows_written=rows,
            snapshot_id=snapshot.snapshot_id if snapshot else None,
            location=loaded.location(),
            table_rows=total,
        )


def _check_single_partition(data: pa.Table, column: str, value: str) -> None:
    values = set(data.column(column).unique().to_pylist())
    if values != {value}:
        raise ValueError(f"overwrite of partition {column}={value!r} got rows for {values}")


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
