"""Schema evolution policy: new columns are added; removing or narrowing a column is refused."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from pyiceberg.table import Table


class SchemaPolicyError(ValueError):
    """A write would remove a column or narrow its type."""


def evolve_schema(table: Table, incoming: pa.Schema) -> None:
    """Add the columns `incoming` has and the table lacks; refuse narrowing type changes.

    Columns the table has and `incoming` lacks are kept (written as null): removing a
    column from a lake table is a deliberate act, not a side effect of an upload.
    """
    current = table.schema().as_arrow()
    for fld in incoming:
        if fld.name not in current.names:
            continue
        have = current.field(fld.name).type
        if not _widens(fld.type, have):
            raise SchemaPolicyError(
                f"table {'.'.join(table.name())}: column {fld.name!r} is {have} in the table, "
                f"the new data has {fld.type}; narrowing or changing a column's type is refused"
            )
    new = [f for f in incoming if f.name not in current.names]
    if new:
        with table.update_schema() as update:
            update.union_by_name(pa.schema(new))


@dataclass(frozen=True)
class SchemaChange:
    """One column whose type the incoming schema changes (or adds)."""

    column: str
    have: str  # the table's type, "-" for a new column
    new: str
    in_place: bool  # Iceberg can apply it to the table as it is (a new column, a promotion)

    def describe(self) -> str:
        if self.have == "-":
            return f"new column {self.column!r} ({self.new}): added in place"
        how = "in place" if self.in_place else "needs a migration"
        return f"column {self.column!r}: {self.have} -> {self.new}: {how}"


def schema_changes(table: Table, incoming: pa.Schema) -> list[SchemaChange]:
    """What writing `incoming` would change in `table`'s schema, column by column."""
    current = table.schema().as_arrow()
    changes = []
    for fld in incoming:
        if fld.name not in current.names:
            changes.append(SchemaChange(fld.name, "-", str(fld.type), True))
            continue
        have = current.field(fld.name).type
        if have != fld.type and not (_same_text(have, fld.type)):
            changes.append(
                SchemaChange(fld.name, str(have), str(fld.type), _widens(fld.type, have))
            )
    return changes


def _same_text(a: pa.DataType, b: pa.DataType) -> bool:
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return any(t(a) for t in text) and any(t(b) for t in text)


def _widens(new: pa.DataType, have: pa.DataType) -> bool:
    """True if values of type `new` fit the table's type `have` without loss."""
    if new == have or pa.types.is_null(new):
        return True
    if pa.types.is_string(new) or pa.types.is_large_string(new) or pa.types.is_string_view(new):
        return bool(pa.types.is_string(have) or pa.types.is_large_string(have))
    if pa.types.is_integer(new) and pa.types.is_integer(have):
        return bool(new.bit_width <= have.bit_width)
    if pa.types.is_floating(new) and pa.types.is_floating(have):
        return bool(new.bit_width <= have.bit_width)
    if pa.types.is_integer(new) and pa.types.is_floating(have):
        return True
    if pa.types.is_timestamp(new) and pa.types.is_timestamp(have):
        return (new.tz is None) == (have.tz is None)
    return False
