"""Validity of versions and the point-in-time join, in polars (no Dagster, no store but
`read_versions`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import polars as pl

from data_platform.contracts import Contract
from data_platform.contracts.columns import (
    DELETED,
    INGESTED_AT,
    SOURCE_KEY,
    SOURCE_ROW,
    VALID_FROM,
    VALID_TO,
)
from data_platform.lakehouse import Lakehouse

UTC_MICROS = pl.Datetime("us", "UTC")
# platform columns a joined event does not need
PLATFORM = (SOURCE_KEY, SOURCE_ROW, INGESTED_AT)


def read_versions(lake: Lakehouse, contract: Contract, as_of: str | None = None) -> pl.DataFrame:
    """Every published version of `contract`'s rows (`history.<name>`), as of a tag,
    snapshot or time. Raises LookupError for a dataset that keeps no history (mode append)."""
    if contract.mode != "upsert":
        raise LookupError(
            f"dataset {contract.name} is mode {contract.mode}: only upsert datasets keep a "
            "history of versions (a key's row in append mode never changes)"
        )
    table = contract.table("history")
    snapshot = lake.resolve_snapshot(table, as_of) if as_of else None
    frame = pl.from_arrow(lake.read(table, snapshot_id=snapshot).data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def with_validity(versions: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """`versions` with `_valid_to`: when the next version of the same key became current
    (null: still current), sorted by key and `_valid_from` (SCD type 2)."""
    ordered = versions.sort([*key, VALID_FROM])
    return ordered.with_columns(pl.col(VALID_FROM).shift(-1).over(list(key)).alias(VALID_TO))


def point_in_time_join(
    events: pl.DataFrame,
    versions: pl.DataFrame,
    *,
    on: Sequence[str],
    at: str,
    features: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Each event row with the version of its key that was current at its `at` time.

    A version counts from its `_valid_from` on (inclusive) until the next one; an event
    before a key's first version gets nulls. No value from after the event's time is ever
    returned. `features`: the version columns to add (default: every non-platform column).
    Events keep their order.
    """
    missing = [c for c in (*on, at) if c not in events.columns]
    if missing:
        raise ValueError(f"the events have no column(s) {missing} (columns: {events.columns})")
    wanted = (
        list(features)
        if features is not None
        else [
            c for c in versions.columns if c not in (*on, VALID_FROM, VALID_TO, DELETED, *PLATFORM)
        ]
    )
    clash = [c for c in wanted if c in events.columns and c not in on]
    deleted = pl.col(DELETED) if DELETED in versions.columns else pl.lit(False)
    right = versions.select(*on, VALID_FROM, *wanted, deleted.alias(DELETED))
    right = right.rename({c: f"{c}_feature" for c in clash})
    shown = [f"{c}_feature" if c in clash else c for c in wanted]
    right = right.sort(VALID_FROM)
    left = events.with_row_index("__event").with_columns(_as_utc(events, at).alias("__at"))
    with warnings.catch_warnings():
        # both sides are sorted on their time just above; polars cannot check it per group
        warnings.filterwarnings("ignore", "Sortedness of columns cannot be checked")
        joined = left.sort("__at").join_asof(
            right, left_on="__at", right_on=VALID_FROM, by=list(on), strategy="backward"
        )
    # a key deleted at the event's time has no features then
    gone = pl.col(DELETED).fill_null(False)
    joined = joined.with_columns(
        [pl.when(gone).then(None).otherwise(pl.col(c)).alias(c) for c in shown]
    )
    return joined.sort("__event").drop("__event", "__at", DELETED)


def _as_utc(events: pl.DataFrame, at: str) -> pl.Expr:
    dtype = events.schema[at]
    column = pl.col(at)
    if isinstance(dtype, pl.Datetime):
        zoned = column.dt.replace_time_zone("UTC") if dtype.time_zone is None else column
        return zoned.dt.convert_time_zone("UTC").cast(UTC_MICROS)
    if isinstance(dtype, pl.Date):
        return column.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    raise ValueError(f"column {at!r} must be a date or datetime to join at, not {dtype}")
