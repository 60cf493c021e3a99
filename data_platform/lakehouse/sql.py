"""SQL over the lake: DuckDB queries that name tables as `layer.dataset`.

DuckDB cannot download its Iceberg extension on our machines, so the tables a query names
are read through pyiceberg into Arrow (only the tables it names, each as of a tag or
snapshot when asked) and exposed to DuckDB as `layer.dataset` views. The connection is
DuckDB's own (in-process), so anything DuckDB can do runs on the rows.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from data_platform.lakehouse.tables import Lakehouse

_NAME = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\b", re.IGNORECASE)


def tables_named(sql: str, lake: Lakehouse) -> list[str]:
    """The lake tables (`layer.dataset`) that `sql` mentions, in order of first mention."""
    known = set(lake.tables())
    named = (f"{a}.{b}".lower() for a, b in _NAME.findall(sql))
    return list(dict.fromkeys(t for t in named if t in known))


def register_tables(
    connection: Any, lake: Lakehouse, sql: str, as_of: str | None = None
) -> dict[str, int | None]:
    """Expose each table `sql` names as a DuckDB view `layer.dataset`; their snapshot ids."""
    read: dict[str, int | None] = {}
    for table in tables_named(sql, lake):
        layer, name = table.split(".")
        snapshot = lake.resolve_snapshot(table, as_of) if as_of else None
        result = lake.read(table, snapshot_id=snapshot)
        alias = f"__lake_{layer}_{name}"
        connection.register(alias, result.data)
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{layer}"')
        connection.execute(f'CREATE OR REPLACE VIEW "{layer}"."{name}" AS SELECT * FROM {alias}')
        read[table] = result.snapshot_id
    return read


def query(connection: Any, lake: Lakehouse, sql: str, as_of: str | None = None) -> pl.DataFrame:
    """Run `sql` on the lake's tables (as of a tag or snapshot id) and return its rows."""
    register_tables(connection, lake, sql, as_of)
    frame = pl.from_arrow(connection.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
