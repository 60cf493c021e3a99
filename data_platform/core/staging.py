"""Type and clean a raw (all-text) frame against a dataset's Pandera model.

`stage()` returns the typed frame and every problem found, each naming its row and
column: values that do not parse, missing or unexpected columns, and the Pandera
model's rule violations. An empty problem list means the partition may be published.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from data_platform.core.problems import Problem

SOURCE_COLUMNS = ("_source_key", "_source_row")
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


@dataclass(frozen=True)
class StageResult:
    """The typed frame (model columns + source columns) and what is wrong with it."""

    frame: pl.DataFrame
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def stage(raw: pl.DataFrame, model: type[pa.DataFrameModel], text_column: str) -> StageResult:
    """Cast `raw` (String columns plus `_source_key`, `_source_row`) to `model`, and validate."""
    columns = {n: c.dtype.type for n, c in model.to_schema().columns.items()}
    present = uploaded_columns(raw)
    raw = raw.select(*present, *SOURCE_COLUMNS)
    problems = [Problem("missing column", column=c) for c in columns if c not in raw.columns]
    problems += [Problem("unexpected column", column=c) for c in present if c not in columns]
    text = raw.select(
        *(
            _clean_text(pl.col(c), collapse=(c == text_column)).alias(c)
            if c in raw.columns
            else pl.lit(None, pl.String).alias(c)
            for c in columns
        ),
        *(pl.col(c) for c in SOURCE_COLUMNS),
    )
    typed = text.with_columns(_parse(pl.col(c), dtype).alias(c) for c, dtype in columns.items())
    if problems:  # wrong columns: row-level rules would only repeat it once per row
        return StageResult(typed, problems)
    for name, dtype in columns.items():
        problems += _parse_failures(text, typed, name, dtype)
    unparsed = {(p.row, p.column) for p in problems}
    problems += [p for p in validate(typed, model) if (p.row, p.column) not in unparsed]
    return StageResult(typed, problems)


def uploaded_columns(raw: pl.DataFrame) -> list[str]:
    """The columns the upload itself had (the raw table holds the union of all uploads)."""
    if "_source_columns" in raw.columns and raw.height:
        return [c for c in raw.get_column("_source_columns")[0].split("\x1f") if c]
    return [c for c in raw.columns if not c.startswith("_")]


def validate(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> list[Problem]:
    """Pandera's rule violations, mapped back to source rows (lazy: all of them)."""
    columns = list(model.to_schema().columns)
    try:
        model.validate(frame.select(columns), lazy=True)
    except SchemaErrors as exc:
        return _failure_problems(exc.failure_cases, frame)
    return []


def _clean_text(col: pl.Expr, *, collapse: bool) -> pl.Expr:
    cleaned = col.cast(pl.String).str.strip_chars()
    if collapse:
        cleaned = cleaned.str.replace_all(r"\s+", " ")
    return pl.when(cleaned.str.len_chars() == 0).then(None).otherwise(cleaned)


def _parse(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String:
        return col
    if dtype == pl.Boolean:
        lowered = col.str.to_lowercase()
        return (
            pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
        ).cast(pl.Boolean)
    if isinstance(dtype, pl.Datetime):
        return _parse_datetime(col, dtype)
    return col.cast(dtype, strict=False)


def _parse_datetime(col: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    """ISO 8601 with or without offset; naive values are taken as UTC."""
    unit, zone = dtype.time_unit or "us", dtype.time_zone
    candidates = [
        col.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit=unit, strict=False),
        col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%z", time_unit=unit, strict=False),
        col.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit=unit, strict=False),
        col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit=unit, strict=False),
        col.str.to_datetime("%Y-%m-%d", time_unit=unit, strict=False),
    ]
    as_zone = [
        c.dt.convert_time_zone(zone) if i < 2 else c.dt.replace_time_zone(zone)
        for i, c in enumerate(candidates)
    ]
    return pl.coalesce(as_zone)


def _parse_failures(
    text: pl.DataFrame, typed: pl.DataFrame, name: str, dtype: pl.DataType
) -> list[Problem]:
    bad = text.select(pl.col(name).alias("value"), pl.col("_source_row")).filter(
        pl.col("value").is_not_null() & typed.get_column(name).is_null()
    )
    return [
        Problem(f"cannot parse as {dtype}", row=row, column=name, value=value)
        for value, row in bad.head(1000).iter_rows()
    ]


def _failure_problems(cases: pl.DataFrame, frame: pl.DataFrame) -> list[Problem]:
    rows = frame.get_column("_source_row")
    problems = []
    for case in cases.head(1000).iter_rows(named=True):
        index = case.get("index")
        row = int(rows[int(index)]) if index is not None else None
        value = case.get("failure_case")
        problems.append(
            Problem(
                f"fails check {case.get('check')}",
                row=row,
                column=case.get("column"),
                value=None if value is None else str(value),
            )
        )
    return problems
