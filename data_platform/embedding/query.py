"""One vector query against a LanceDB table, shaped as the platform's search result."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from data_platform.embedding.errors import guard_filter
from data_platform.embedding.index import META_EFFORT, META_INDEX_TYPE, apply_effort
from data_platform.embedding.model import VECTOR_COLUMN
from data_platform.embedding.rowcache import ROW_ID, RowCache
from data_platform.embedding.rows import META_ID, META_TEXT, field_metadata

SCORE_COLUMN = "score"
DISTANCE = "_distance"


def search_table(
    table: Any,
    vector: np.ndarray,
    k: int,
    where: str | None,
    *,
    exact: bool = False,
    effort: int | None = None,
    cache: RowCache | None = None,
) -> pl.DataFrame:
    """Top-k rows by inner product (= cosine for unit vectors), best first.

    Args:
        table: The LanceDB table.
        vector: The unit query vector.
        k: How many rows.
        where: SQL prefilter.
        exact: Bypass the ANN index.
        effort: nprobes/ef; default the tuned value stored with the index.
        cache: The table's cached small columns; when it matches the table version only
            row ids and distances are read from storage.

    Returns:
        ``score``, the id column, the text column, then the other non-vector columns.
    """
    schema = table.schema
    builder = table.search(vector, vector_column_name=VECTOR_COLUMN).distance_type("dot")
    builder = builder.limit(k)
    if where:
        builder = builder.where(where, prefilter=True)
    if exact:
        builder = builder.bypass_vector_index()
    else:
        meta = field_metadata(schema, VECTOR_COLUMN)
        chosen = effort or int(meta.get(META_EFFORT, 0))
        builder = apply_effort(builder, meta.get(META_INDEX_TYPE), chosen)
    names = [n for n in schema.names if n != VECTOR_COLUMN]
    frame = None
    if cache is not None:
        hits = guard_filter(lambda: builder.select([ROW_ID, DISTANCE]).to_arrow(), where)
        rows = (
            cache.lookup(hits.column(ROW_ID).to_numpy()) if table.version == cache.version else None
        )
        if rows is not None:
            frame = rows.with_columns(pl.Series(DISTANCE, hits.column(DISTANCE).to_numpy()))
    if frame is None:
        result = guard_filter(lambda: builder.select([*names, DISTANCE]).to_arrow(), where)
        loaded = pl.from_arrow(result)
        assert isinstance(loaded, pl.DataFrame)
        frame = loaded
    table_meta = field_metadata(schema)
    id_column, text_column = table_meta[META_ID], table_meta[META_TEXT]
    rest = [n for n in names if n not in (id_column, text_column)]
    return frame.select((1.0 - pl.col(DISTANCE)).alias(SCORE_COLUMN), id_column, text_column, *rest)
