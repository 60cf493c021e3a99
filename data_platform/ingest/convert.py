"""Typing a batch once, with the contract's types, losing nothing.

Each declared column is converted from what the file holds (text, or a Parquet/JSON type)
to the contract's type. A value that does not convert becomes null in its column and
keeps its original text in `_rescued_data` (a JSON object per row, the pattern of
Databricks Auto Loader's rescued-data column), with a problem naming row, column and
value. Columns the contract does not declare are kept in `_rescued_data` too, so the raw
layer holds every byte of meaning the upload had.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

import polars as pl

from data_platform.contracts import Column, Contract
from data_platform.contracts.columns import RESCUED, SOURCE_ROW
from data_platform.contracts.model import (
    DATE_FORMAT,
    DATETIME_FORMATS,
    MIDNIGHT,
    date_from_text,
)
from data_platform.ingest.problems import Problem

MAX_PROBLEMS = 1000
PARSE_SLICE_ROWS = 100_000  # below this, one slice: splitting costs more than it saves
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_INFINITY = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")  # as float reads them
SEPARATORS = (",", ";", "\t", "|")


@dataclass
class Converted:
    """A batch in the contract's types, its rescued text, and what did not convert."""

    frame: pl.DataFrame  # declared columns (contract order), _source_row, _rescued_data
    problems: list[Problem] = field(default_factory=list)
    failed_values: int = 0
    # per column that lost values, which rows' values did not convert (null in `frame`):
    # each is reported once, as unparsed, and is no missing value or repeat of another
    failed: dict[str, pl.Series] = field(default_factory=dict)


def column_problems(
    present: list[str], contract: Contract, separator: str | None = None
) -> list[Problem]:
    """Missing and unexpected columns: file-level, reported once each.

    A text file read with `separator` into one column that the contract does not have,
    whose name holds another separator, was written with that one: that is said once,
    instead of every declared column being missing.
    """
    declared = contract.columns
    if separator is not None and len(present) == 1 and present[0] not in declared:
        hint = _separator_hint(present[0], separator)
        if hint is not None:
            return [hint]
    problems = [
        Problem("missing column", column=name)
        for name, column in declared.items()
        if name not in present and not column.nullable
    ]
    problems += [
        Problem("unexpected column", column=name)
        for name in present
        if name not in declared and name != contract.delete_marker
    ]
    return problems


def _separator_hint(header: str, separator: str) -> Problem | None:
    counts = {s: header.count(s) for s in SEPARATORS if s != separator}
    found = max(counts, key=lambda s: counts[s])
    if not counts[found]:
        return None
    shown = header if len(header) <= 80 else header[:77] + "..."
    return Problem(
        f"the header has one column {shown!r}: it looks {found!r}-separated; "
        f"the contract expects {separator!r}"
    )


def convert(batch: pl.DataFrame, contract: Contract) -> Converted:
    """Type `batch` (the file's columns plus `_source_row`) to `contract`.

    All columns convert in one `select` (polars spreads them over the cores); a value
    failed to convert where its column has more nulls after than before, so the per-value
    masks are built only for the (rare) columns that lost a value.
    """
    present = [c for c in batch.columns if c != SOURCE_ROW]
    exprs: list[pl.Expr] = []
    datetimes: dict[str, pl.Series] = {}
    for name, column in contract.columns.items():
        if name not in present:
            exprs.append(pl.lit(None, column.dtype).alias(name))
        elif batch.schema[name] == pl.String and column.type == "datetime":
            datetimes[name] = _datetime(batch.get_column(name), column)
        else:
            exprs.append(_convert(pl.col(name), batch.schema[name], column).alias(name))
    typed = batch.select(*exprs, SOURCE_ROW)
    frame = typed.with_columns(*datetimes.values()).select(*contract.columns, SOURCE_ROW)
    # values the exact parse missed get the lenient one (spaces around, other spellings)
    lenient = [
        _from_text(pl.col(name), column).alias(name)
        for name, column in contract.columns.items()
        if name in present
        and batch.schema[name] == pl.String
        and column.type in _EXACT
        and frame.get_column(name).null_count() > batch.get_column(name).null_count()
    ]
    if lenient:
        frame = frame.with_columns(batch.select(lenient))
    overflowed = [
        _finite_or_null(pl.col(name), batch.get_column(name)).alias(name)
        for name, column in contract.columns.items()
        if name in present
        and batch.schema[name] == pl.String
        and column.type == "float"
        and frame.get_column(name).is_infinite().any()
    ]
    if overflowed:
        frame = frame.with_columns(overflowed)
    failures: dict[str, pl.Series] = {
        name: batch.get_column(name).is_not_null() & frame.get_column(name).is_null()
        for name in present
        if name in contract.columns
        and frame.get_column(name).null_count() > batch.get_column(name).null_count()
    }
    extra = [c for c in present if c not in contract.columns]
    result = Converted(frame.with_columns(pl.lit(None, pl.String).alias(RESCUED)), failed=failures)
    if failures or extra:
        result.frame = frame.with_columns(_rescue(batch, contract, failures, extra, result))
    return result


def from_raw(raw: pl.DataFrame, contract: Contract) -> Converted:
    """Rows of the raw table as converted, with the problems their `_rescued_data` records
    (for a replay from raw)."""
    problems: list[Problem] = []
    unexpected: set[str] = set()
    failed_values = 0
    rows = raw.filter(pl.col(RESCUED).is_not_null()).select(SOURCE_ROW, RESCUED)
    for row, text in rows.iter_rows():
        for name, value in json.loads(text).items():
            if name == contract.delete_marker:
                continue  # upsert's delete marker: read by the replay, not a problem
            if name not in contract.columns:
                unexpected.add(name)
                continue
            failed_values += 1
            if len(problems) < MAX_PROBLEMS:
                reason = unparsed(contract.columns[name], value)
                problems.append(Problem(reason, row=row, column=name, value=value))
    failed: dict[str, pl.Series] = {}
    if rows.height:
        rescued = raw.get_column(RESCUED).str.json_decode(
            pl.Struct({name: pl.String for name in contract.columns})
        )
        for name in contract.columns:
            mask = rescued.struct.field(name).is_not_null()
            if mask.any():
                failed[name] = mask
    problems = [Problem("unexpected column", column=n) for n in sorted(unexpected)] + problems
    frame = raw.select(*contract.columns, SOURCE_ROW, RESCUED)
    return Converted(frame, problems, failed_values + len(unexpected), failed)


def unparsed(column: Column, text: str) -> str:
    """Why `text` is not a value of `column`'s type, for a person: "cannot parse as date:
    a date was expected, the value has a time of day". Runs on reported problems only."""
    reason = f"cannot parse as {_type_name(column)}"
    value = text.strip()
    timed = _TIMED.match(value) if column.type == "date" else None
    if timed is not None and _is_day(timed.group("day")):
        offset = timed.group("offset")
        if offset and offset != "Z" and re.match(MIDNIGHT, timed.group("time") + "Z"):
            return f"{reason}: a date was expected, the value has a time zone offset"
        return f"{reason}: a date was expected, the value has a time of day"
    if column.type == "float" and _NUMBER.fullmatch(value) and _overflows(value):
        return f"{reason}: out of range for a 64-bit float"
    if column.type == "integer" and re.fullmatch(r"[+-]?\d+", value) and _too_long(value):
        return f"{reason}: out of range for a 64-bit integer"
    return reason


_TIMED = re.compile(
    r"(?P<day>\d{4}-\d{1,2}-\d{1,2})(?P<time>[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_day(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _too_long(digits: str) -> bool:
    """Whether whole-number `digits` (a sign, then digits) lie outside a 64-bit integer."""
    significant = digits.lstrip("+-").lstrip("0")
    if len(significant) > 19:
        return True
    value = int(significant or "0") * (-1 if digits.startswith("-") else 1)
    return not -(2**63) <= value < 2**63


def _overflows(value: str) -> bool:
    try:
        return abs(float(value)) == float("inf")
    except ValueError:
        return False


def _rescue(
    batch: pl.DataFrame,
    contract: Contract,
    failures: dict[str, pl.Series],
    extra: list[str],
    result: Converted,
) -> pl.Series:
    """`_rescued_data`: per row, a JSON object of the values that did not fit the contract.

    Only rows with something to rescue are visited (row by row: a bad value is rare, and
    its problem must name the row, the column and the value).
    """
    names = [*failures, *extra]
    texts = batch.select(*(_as_text(pl.col(n), batch.schema[n]).alias(n) for n in names))
    if extra:
        wanted = pl.Series([True] * batch.height)
    else:
        wanted = pl.DataFrame(failures).select(pl.any_horizontal(pl.all())).to_series()
    rescued: list[str | None] = [None] * batch.height
    rows = batch.get_column(SOURCE_ROW)
    for index in wanted.arg_true().to_list():
        kept = {}
        for name in names:
            value = texts[name][index]
            if value is None or (name in failures and not failures[name][index]):
                continue
            kept[name] = value
            if name in failures:
                result.failed_values += 1
                if len(result.problems) < MAX_PROBLEMS:
                    reason = unparsed(contract.columns[name], value)
                    result.problems.append(
                        Problem(reason, row=rows[index], column=name, value=value)
                    )
        if kept:
            rescued[index] = json.dumps(kept, ensure_ascii=False)
    return pl.Series(RESCUED, rescued, dtype=pl.String)


def _type_name(column: Column) -> str:
    if column.type == "datetime":
        return f"datetime ({column.timezone or 'no time zone'})"
    if column.type == "list":
        return f"list of {column.items}"
    return column.type


def _as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A value's original text (JSON for nested values), for `_rescued_data`."""
    if dtype == pl.String:
        return expr
    if dtype.is_nested():
        return pl.struct(expr.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    return expr.cast(pl.String)


def _convert(expr: pl.Expr, source: pl.DataType, column: Column) -> pl.Expr:
    target = column.dtype
    if source == target:
        return expr
    if source == pl.String:
        return _EXACT[column.type](expr) if column.type in _EXACT else _from_text(expr, column)
    if source == pl.Null:
        return expr.cast(target)
    if column.type == "string":
        return _as_text(expr, source)
    if column.type == "integer" and source.is_float():
        exact = expr.is_finite() & (expr == expr.round(0)) & (expr.abs() < 2.0**63)
        return pl.when(exact).then(expr).cast(pl.Int64, strict=False)
    if column.type == "date" and isinstance(source, pl.Datetime):
        # a date may be written as its midnight; any other time of day is not a date
        return pl.when(expr.dt.time() == time(0)).then(expr.dt.date())
    if column.type == "datetime" and isinstance(source, pl.Datetime):
        if source.time_zone and column.timezone:
            return expr.dt.convert_time_zone(column.timezone).cast(target)
        if not source.time_zone and column.timezone:
            return expr.dt.replace_time_zone(column.timezone).cast(target)
        if source.time_zone and not column.timezone:
            return pl.lit(None, target)  # an instant cannot become a naive local time
        return expr.cast(target)
    return expr.cast(target, strict=False)


# The parse of a value written exactly (no spaces around it, a usual spelling): three times
# cheaper than `_from_text`, which trims and lower-cases first. Where it gives a value,
# `_from_text` gives the same; only columns where it missed some are parsed again leniently.
_EXACT_BOOLEANS = {
    spelling: value
    for words, value in ((_TRUE, True), (_FALSE, False))
    for word in words
    for spelling in (word, word.upper(), word.capitalize())
}
_EXACT: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "integer": lambda text: text.cast(pl.Int64, strict=False),
    "float": lambda text: text.cast(pl.Float64, strict=False),
    "boolean": lambda text: text.replace_strict(
        _EXACT_BOOLEANS, default=None, return_dtype=pl.Boolean
    ),
    "date": lambda text: text.str.to_date(DATE_FORMAT, strict=False),
}


def _finite_or_null(number: pl.Expr, text: pl.Series) -> pl.Expr:
    """A float column's infinities that the file spelled as a number (`1e400`, too large
    for a float) become null, so they are rescued with their text; `inf` stays infinite."""
    spelled = pl.lit(text).str.strip_chars().str.to_lowercase().is_in(_INFINITY)
    return pl.when(number.is_infinite() & ~spelled).then(None).otherwise(number)


def _from_text(text: pl.Expr, column: Column) -> pl.Expr:
    """Parse text as the column's type; what does not parse becomes null."""
    stripped = text.str.strip_chars()
    kind = column.type
    if kind == "string":
        return text
    if kind == "integer":
        return stripped.cast(pl.Int64, strict=False)
    if kind == "float":
        return stripped.cast(pl.Float64, strict=False)
    if kind == "boolean":
        lowered = stripped.str.to_lowercase()
        return (
            pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
        ).cast(pl.Boolean)
    if kind == "date":
        return date_from_text(stripped)
    return _list(stripped, column)


def _datetime(text: pl.Series, column: Column) -> pl.Series:
    """ISO 8601 with or without an offset; a naive value is local time in the contract's zone.

    The format of the first value is tried on all rows; only rows it does not fit try the
    others (each format is a full parse: trying all of them on every row costs 8x). An
    offset is refused for a naive column: an instant is not a local time.
    """
    stripped = text.str.strip_chars()
    formats = [(f, z) for f, z in DATETIME_FORMATS if column.timezone is not None or not z]
    sample = stripped.drop_nulls().head(1)
    # stable sort: the first format that fits the first value leads, the rest keep order
    ordered = sorted(formats, key=lambda f: _parse(column, sample, *f).null_count() > 0)
    parsed = _parse(column, stripped, *ordered[0])
    for spelling in ordered[1:]:
        missing = parsed.is_null() & stripped.is_not_null()
        if not missing.any():
            break
        parsed = parsed.zip_with(~missing, _parse(column, stripped, *spelling))
    return parsed.alias(text.name)


def _parse(column: Column, text: pl.Series, fmt: str, zoned: bool) -> pl.Series:
    """`text` parsed with `fmt`, in slices parsed in parallel (polars parses one series on
    one core; a lazy concat of slices runs them on all of them)."""
    # no cache: timestamps are mostly distinct, and the cache makes the parse 30% slower
    parsed = pl.col(text.name).str.to_datetime(fmt, time_unit="us", strict=False, cache=False)
    if zoned:
        parsed = parsed.dt.convert_time_zone(column.timezone or "UTC")
    elif column.timezone is not None:
        parsed = parsed.dt.replace_time_zone(
            column.timezone, ambiguous="earliest", non_existent="null"
        )
    step = max(PARSE_SLICE_ROWS, -(-text.len() // (os.cpu_count() or 1)))
    slices = [text.slice(start, step).to_frame().lazy() for start in range(0, text.len(), step)]
    if not slices:
        return text.to_frame().select(parsed).to_series()
    return pl.concat(slices).select(parsed).collect().to_series()


def _list(text: pl.Expr, column: Column) -> pl.Expr:
    """A JSON array, e.g. `[1, 2]`; anything else is null (and rescued)."""
    dtype = column.dtype

    def decode(values: pl.Series) -> pl.Series:
        out = []
        for value in values.to_list():
            try:
                parsed = json.loads(value) if value is not None else None
                out.append(
                    pl.Series([parsed], dtype=dtype)[0] if isinstance(parsed, list) else None
                )
            except (ValueError, TypeError, pl.exceptions.PolarsError, OverflowError):
                out.append(None)
        return pl.Series(out, dtype=dtype)

    def decode_fast(values: pl.Series) -> pl.Series:
        try:
            return values.str.json_decode(dtype)
        except pl.exceptions.PolarsError:  # one bad value fails the whole column: go slow
            return decode(values)

    return text.map_batches(decode_fast, return_dtype=dtype)
