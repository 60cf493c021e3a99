"""The Pandera schema of a staged table, built from the dataset's contract.

Every rule a contract can state maps to one Pandera check, so a failure names the rule
(`greater_than_or_equal_to(1)`, `isin([...])`, `finite`) together with the row and column.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_platform.contracts import Column, Contract


def staged_schema(contract: Contract, *, uniqueness: bool = True) -> pa.DataFrameSchema:
    """Types, nullability, uniqueness and rules of every declared column (strict).

    `uniqueness=False` leaves uniqueness out: ingestion checks it across all batches of an
    upload itself (`core.ingest.validate.UniqueTracker`), which one batch cannot.
    """
    key_unique = uniqueness and len(contract.key) == 1
    columns = {
        name: pa.Column(
            column.dtype,
            nullable=column.nullable,
            unique=(uniqueness and column.unique) or (key_unique and name in contract.key),
            checks=column_checks(column),
            description=column.description or None,
        )
        for name, column in contract.columns.items()
    }
    return pa.DataFrameSchema(
        columns,
        name=f"staged.{contract.name} v{contract.version}",
        strict=True,
        unique=list(contract.key) if uniqueness and len(contract.key) > 1 else None,
        report_duplicates="all",
    )


def column_checks(column: Column) -> list[pa.Check]:
    """The Pandera checks for one column's rules."""
    checks: list[pa.Check] = []
    if column.type == "float" and not column.allow_non_finite:
        checks.append(finite())  # first: inf also fails min/max, but this says why
    if column.min is not None:
        checks.append(pa.Check.ge(column.min))
    if column.max is not None:
        checks.append(pa.Check.le(column.max))
    if column.allowed is not None:
        checks.append(pa.Check.isin(list(column.allowed)))
    if column.regex is not None:
        checks.append(pa.Check.str_contains(column.regex))
    if column.min_length is not None or column.max_length is not None:
        checks.append(pa.Check.str_length(column.min_length, column.max_length))
    return checks


def finite() -> pa.Check:
    """Refuse inf, -inf and NaN: a parse of `1e400` or `inf` is a number, but not data."""

    def is_finite(data: pa.PolarsData) -> pl.LazyFrame:
        value = pl.col(data.key)
        return data.lazyframe.select(value.is_finite() | value.is_null())

    return pa.Check(is_finite, name="finite", error="value is not finite (inf or NaN)")
