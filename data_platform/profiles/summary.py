"""A profile and a drift report as tables a person reads (the asset's metadata, the CLI)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl

from data_platform.contracts import Contract
from data_platform.profiles.column import ColumnProfile
from data_platform.profiles.drift import DriftReport
from data_platform.profiles.profile import Profile

PROFILE_COLUMNS = (
    "column", "kind", "rows", "nulls", "distinct", "min", "mean", "std", "p05", "p50", "p95",
    "max", "top values / words",
)  # fmt: skip


def profile_table(profile: Profile, contract: Contract) -> pl.DataFrame:
    """One row per column: counts, the spread of its values (or text lengths), its top values."""
    rows = []
    for name, column in profile.columns.items():
        show = _shower(contract, name, column)
        moments = column.moments
        found = column.quantiles([0.05, 0.5, 0.95])
        spread: list[float | None] = list(found) if found else [None] * 3
        q05, q50, q95 = spread
        rows.append(
            [
                name,
                column.kind,
                f"{column.rows:,}",
                f"{column.nulls:,} ({column.null_rate:.1%})",
                _distinct(column),
                show(moments.low) if moments.n else "",
                show(moments.mean) if moments.n else "",
                _spread(moments.std, contract, name, column),
                show(q05),
                show(q50),
                show(q95),
                show(moments.high) if moments.n else "",
                _extra(column),
            ]
        )
    return pl.DataFrame(rows, schema=list(PROFILE_COLUMNS), orient="row")


def drift_table(report: DriftReport) -> pl.DataFrame:
    """One row per metric: column, metric, value, threshold, and whether it is over."""
    return pl.DataFrame(
        {
            "column": [m.column for m in report.metrics],
            "metric": [m.metric for m in report.metrics],
            "value": [round(m.value, 4) for m in report.metrics],
            "threshold": [m.threshold for m in report.metrics],
            "drift": ["DRIFT" if m.over else "" for m in report.metrics],
            "detail": [m.detail for m in report.metrics],
        },
        schema={
            "column": pl.String,
            "metric": pl.String,
            "value": pl.Float64,
            "threshold": pl.Float64,
            "drift": pl.String,
            "detail": pl.String,
        },
    )


def markdown(frame: pl.DataFrame) -> str:
    """A frame as a markdown table (cells cut to 60 characters)."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.iter_rows():
        cells = ["" if v is None else str(v).replace("|", "/")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _shower(contract: Contract, name: str, column: ColumnProfile):  # type: ignore[no-untyped-def]
    """How a column's numbers read: dates and datetimes as such, others as numbers."""
    declared = contract.columns.get(name)
    if column.kind == "time" and declared is not None:
        if declared.type == "date":
            return lambda v: "" if v is None else str(date(1970, 1, 1) + timedelta(days=int(v)))
        return lambda v: (
            "" if v is None else datetime.fromtimestamp(v, UTC).strftime("%Y-%m-%d %H:%M")
        )
    return lambda v: _number(v)


def _distinct(column: ColumnProfile) -> str:
    count = column.distinct_count
    if count is None:
        return ""
    return f"{count:,.0f}" + ("" if column.distinct.exact else " ~")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:,.4g}"


def _spread(std: float | None, contract: Contract, name: str, column: ColumnProfile) -> str:
    """A standard deviation; of times, in days (dates are held in days, datetimes in s)."""
    if std is None or column.kind != "time":
        return _number(std)
    declared = contract.columns.get(name)
    days = std if declared is not None and declared.type == "date" else std / 86400
    return f"{days:,.1f} d"


def _extra(column: ColumnProfile) -> str:
    if column.kind == "category":
        return ", ".join(f"{v} {c:,}" for v, c in column.top(5))
    if column.kind == "text" and column.words_moments.n:
        words = column.words_moments
        return f"words: mean {words.mean:,.1f}, max {words.high:,.0f} (the rest: characters)"
    return ""
