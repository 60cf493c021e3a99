"""`LakeSQLResource`: dagster-duckdb's DuckDB resource, able to read the lake's tables.

An asset can be written in SQL: `lake_sql.query("select ... from staged.reviews")`
returns a polars frame; `as_of` reads the tables as of a tag or snapshot id.
"""

from __future__ import annotations

import polars as pl
from dagster_duckdb import DuckDBResource
from pydantic import Field

from data_platform.defs.resources.lakehouse import LakehouseResource
from data_platform.lakehouse import sql


class LakeSQLResource(DuckDBResource):
    """DuckDB (in memory by default) with the lake's tables as `layer.dataset` views."""

    lakehouse: LakehouseResource
    database: str = Field(default=":memory:", description="DuckDB database file, or memory.")

    def query(self, statement: str, as_of: str | None = None) -> pl.DataFrame:
        """Rows of `statement`, which names lake tables as `layer.dataset`."""
        lake = self.lakehouse.get_lakehouse()
        with self.get_connection() as connection:
            return sql.query(connection, lake, statement, as_of)
