"""Rows for a vector table: checked, converted to Arrow, and compared by value on merge."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from data_platform.embedding.errors import SchemaMismatchError
from data_platform.embedding.model import EMBEDDING_DIM, MODEL_NAME, VECTOR_COLUMN

META_ID = "dp.id_column"
META_TEXT = "dp.text_column"
META_MODEL = "dp.model"


def field_metadata(schema: pa.Schema, column: str | None = None) -> dict[str, str]:
    """Decoded metadata of a schema, or of one of its fields."""
    raw = (schema.field(column).metadata if column else schema.metadata) or {}
    return {k.decode(): v.decode() for k, v in raw.items()}


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def to_table_rows(
    dataset: str,
    frame: pl.DataFrame,
    id_column: str,
    text_column: str,
    schema: pa.Schema | None,
) -> pa.Table:
    """Check rows and convert them to Arrow in the table's schema (or a new one).

    Args:
        dataset: Table name, for messages.
        frame: Rows with id, text, ``vector`` and filter columns.
        id_column: The key column.
        text_column: The embedded text column.
        schema: The existing table's schema; None for a new table, which then records
            the id and text columns and the model in its metadata.

    Returns:
        An Arrow table ready for ``create_table`` or ``merge_insert``.

    Raises:
        SchemaMismatchError: Missing columns, wrong vector size, null or duplicate ids, or
            columns other than the table's.
    """
    for column in (id_column, text_column, VECTOR_COLUMN):
        if column not in frame.columns:
            raise SchemaMismatchError(f"{dataset}: rows have no {column!r} column")
    if frame.schema[VECTOR_COLUMN] != pl.Array(pl.Float32, EMBEDDING_DIM):
        try:
            frame = frame.with_columns(
                pl.col(VECTOR_COLUMN).cast(pl.Array(pl.Float32, EMBEDDING_DIM))
            )
        except pl.exceptions.PolarsError as exc:
            raise SchemaMismatchError(
                f"{dataset}: {VECTOR_COLUMN!r} is not {EMBEDDING_DIM} floats per row: {exc}"
            ) from None
    ids = frame.get_column(id_column)
    if ids.null_count() or ids.n_unique() != frame.height:
        raise SchemaMismatchError(f"{dataset}: {id_column!r} has nulls or duplicates")
    data = frame.to_arrow()
    if schema is None:
        meta = {META_ID: id_column, META_TEXT: text_column, META_MODEL: MODEL_NAME}
        return data.replace_schema_metadata(meta)
    if set(data.column_names) != set(schema.names):
        raise SchemaMismatchError(
            f"{dataset}: columns {sorted(data.column_names)} differ from the table's "
            f"{sorted(schema.names)}"
        )
    return data.select(schema.names).cast(schema)


def changed_condition(columns: list[str], id_column: str) -> str | None:
    """SQL for "a matched row differs", null-safe, over every column but id and vector.

    Updating only such rows makes a re-run report zero updates. The text decides the
    vector, so the vector itself is not compared.
    """
    parts = [
        f"(target.{c} != source.{c} OR (target.{c} IS NULL) != (source.{c} IS NULL))"
        for c in columns
        if c not in (id_column, VECTOR_COLUMN)
    ]
    return " OR ".join(parts) or None
