"""The profile of an upload (or of a merge of uploads), and its rows in `profiles.<name>`.

An upload's profile is built in the ingest pass from the staged frames the run already
holds, batch by batch (`update`): no second read. Each upload's profile is stored as one
row per column in the Iceberg table `profiles.<dataset>`: the figures a person queries
(rows, nulls, distinct, min, max, mean, std, quantiles, top values) and the serialised
sketches, from which `merge` builds the profile of any set of uploads without a rescan.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from datasketches import frequent_strings_sketch, kll_doubles_sketch

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.profiles.column import ColumnProfile, Moments, kind_of
from data_platform.profiles.distinct import Distinct

PARALLEL_ROWS = 100_000  # batches from this size profile two columns at a time
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
SKETCHES = ("values", "lengths", "words", "frequent")

# the columns of `profiles.<dataset>`: one row per upload and column
ROW_SCHEMA: dict[str, pl.DataType] = {
    SOURCE_KEY: pl.String(),
    "environment": pl.String(),
    "column": pl.String(),
    "kind": pl.String(),
    "rows": pl.Int64(),
    "nulls": pl.Int64(),
    "null_rate": pl.Float64(),
    "distinct": pl.Float64(),
    "min": pl.Float64(),
    "max": pl.Float64(),
    "mean": pl.Float64(),
    "std": pl.Float64(),
    **{name: pl.Float64() for name in QUANTILES},
    "top_values": pl.String(),
    "moments": pl.String(),
    "values_sketch": pl.Binary(),
    "lengths_sketch": pl.Binary(),
    "words_sketch": pl.Binary(),
    "frequent_sketch": pl.Binary(),
    "distinct_sketch": pl.Binary(),
    "ingested_at": pl.Datetime("us", "UTC"),
}


@dataclass
class Profile:
    """Column name -> its profile, over one upload's rows or a merge of uploads'."""

    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    uploads: int = 0  # how many uploads' profiles it merges

    @classmethod
    def empty(cls, contract: Contract) -> Profile:
        return cls({name: ColumnProfile(kind_of(contract, name)) for name in contract.columns}, 1)

    @property
    def rows(self) -> int:
        return max((c.rows for c in self.columns.values()), default=0)

    def update(self, frame: pl.DataFrame) -> None:
        """Add a batch of staged rows (two columns at a time: hashing, partitions and polars'
        kernels release the GIL, so one column's native work overlaps another's sketching)."""
        work = [(c, frame.get_column(n)) for n, c in self.columns.items() if n in frame.columns]
        if frame.height < PARALLEL_ROWS:
            for column, values in work:
                column.update(values)
            return
        with ThreadPoolExecutor(2, thread_name_prefix="profile") as pool:
            for done in [pool.submit(column.update, values) for column, values in work]:
                done.result()

    def merge(self, other: Profile) -> None:
        for name, column in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                self.columns[name] = _copy(column)
            elif mine.kind == column.kind:  # a column whose kind changed: the new kind's
                mine.merge(column)
        self.uploads += other.uploads

    # -- the table's rows ------------------------------------------------------------------
    def rows_for(self, partition: str, environment: str, ingested_at: datetime) -> pl.DataFrame:
        """The upload's rows of `profiles.<dataset>`, one per column."""
        records = []
        for name, column in self.columns.items():
            found = column.quantiles(list(QUANTILES.values()))
            quantiles: list[float | None] = list(found) if found else [None] * len(QUANTILES)
            moments = column.moments
            records.append(
                {
                    SOURCE_KEY: partition,
                    "environment": environment,
                    "column": name,
                    "kind": column.kind,
                    "rows": column.rows,
                    "nulls": column.nulls,
                    "null_rate": column.null_rate,
                    "distinct": column.distinct_count,
                    "min": moments.low if moments.n else None,
                    "max": moments.high if moments.n else None,
                    "mean": moments.mean if moments.n else None,
                    "std": moments.std,
                    **dict(zip(QUANTILES, quantiles, strict=True)),
                    "top_values": json.dumps(column.top()) if column.frequent else None,
                    "moments": json.dumps(
                        {"values": vars(moments), "words": vars(column.words_moments)}
                    ),
                    **{f"{part}_sketch": _bytes(getattr(column, part)) for part in SKETCHES},
                    "distinct_sketch": column.distinct.serialize(),
                    "ingested_at": ingested_at,
                }
            )
        return pl.DataFrame(records, schema=ROW_SCHEMA)


def from_rows(rows: pl.DataFrame) -> dict[str, Profile]:
    """Each upload's profile from its rows of `profiles.<dataset>`."""
    profiles: dict[str, Profile] = {}
    for row in rows.iter_rows(named=True):
        profile = profiles.setdefault(row[SOURCE_KEY], Profile(uploads=1))
        profile.columns[row["column"]] = _column(row)
    return profiles


def merged(rows: pl.DataFrame) -> Profile:
    """The profile of every upload in `rows` (of `profiles.<dataset>`), merged.

    The distinct-count sketches of each column are merged in one pass (their hashes
    concatenated, the K smallest kept), the rest sketch by sketch.
    """
    result = Profile(uploads=rows.get_column(SOURCE_KEY).n_unique() if rows.height else 0)
    for (name,), group in rows.group_by("column", maintain_order=True):
        kinds = group.get_column("kind")
        kind = kinds[-1]
        group = group.filter(kinds == kind)
        column = ColumnProfile(kind)
        for row in group.drop("distinct_sketch").iter_rows(named=True):
            part = _column(row, with_distinct=False)
            column.merge(part)
        column.distinct = _union(group.get_column("distinct_sketch").to_list())
        result.columns[str(name)] = column
    return result


def _union(serialised: list[bytes]) -> Distinct:
    return Distinct.union([Distinct.deserialize(s) for s in serialised if s])


def _column(row: dict, *, with_distinct: bool = True) -> ColumnProfile:
    moments = json.loads(row["moments"])
    column = ColumnProfile(
        row["kind"],
        rows=row["rows"],
        nulls=row["nulls"],
        moments=Moments(**moments["values"]),
        words_moments=Moments(**moments["words"]),
        values=_kll(row["values_sketch"]),
        lengths=_kll(row["lengths_sketch"]),
        words=_kll(row["words_sketch"]),
        frequent=(
            frequent_strings_sketch.deserialize(row["frequent_sketch"])
            if row["frequent_sketch"]
            else None
        ),
    )
    if with_distinct and row.get("distinct_sketch"):
        column.distinct = Distinct.deserialize(row["distinct_sketch"])
    return column


def _kll(data: bytes | None) -> kll_doubles_sketch | None:
    return kll_doubles_sketch.deserialize(data) if data else None


def _bytes(sketch: kll_doubles_sketch | frequent_strings_sketch | None) -> bytes | None:
    return sketch.serialize() if sketch is not None else None


def _copy(column: ColumnProfile) -> ColumnProfile:
    copy = ColumnProfile(column.kind)
    copy.merge(column)
    return copy
