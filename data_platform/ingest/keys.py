"""The contract's key across uploads: what an append refuses, what an upsert replaces.

Pure polars, no store: `IngestRun` hands in each upload's key values (with the file row of
each) in batch order, and the key values the table already holds (with the upload that
holds each), and gets back what to refuse or what to drop.

- **append** (`duplicates: refuse`): an upload repeating a key that the table or an earlier
  upload of the batch holds is refused, each repeated row a problem naming the key's
  values and the upload (and row) that holds them.
- **upsert**: the last upload of a batch to carry a key wins; an earlier upload of the
  batch loses those rows, and the table's rows with those keys (in uploads outside the
  batch) are dropped from their uploads' partitions.
- **upsert, replayed from raw**: an upload re-decided later holds only the keys no later
  upload changed (`replayed`); those it still holds win over earlier uploads' rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from data_platform.contracts.columns import SOURCE_KEY, SOURCE_ROW, VALID_FROM
from data_platform.ingest.problems import Problem

HOLDER = "_holder"
HOLDER_ROW = "_holder_row"
MAX_KEY_PROBLEMS = 100


def key_frame(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """The key columns and the file row of each staged row."""
    return frame.select(*key, SOURCE_ROW)


def repeated_keys(
    uploads: list[tuple[str, pl.DataFrame]], existing: pl.DataFrame, key: tuple[str, ...]
) -> dict[str, tuple[list[Problem], int]]:
    """append: partition -> (problems, how many rows) for each upload repeating a key.

    `uploads`: (partition, key frame) in batch order; `existing`: the table's key columns
    with `_source_key` and `_source_row`, without the batch's own partitions. An upload
    refused here holds nothing afterwards: a later upload is checked against the table and
    the accepted uploads only.
    """
    held = existing.select(
        *key, pl.col(SOURCE_KEY).cast(pl.String).alias(HOLDER), pl.col(SOURCE_ROW).alias(HOLDER_ROW)
    ).unique(subset=list(key), keep="first")
    refused: dict[str, tuple[list[Problem], int]] = {}
    for partition, keys in uploads:
        clash = keys.join(held, on=list(key), how="inner", nulls_equal=False)
        if clash.height:
            clash = clash.sort(SOURCE_ROW)
            problems = [
                _problem(row, key, hint=i == 0)
                for i, row in enumerate(clash.head(MAX_KEY_PROBLEMS).iter_rows(named=True))
            ]
            refused[partition] = (problems, clash.height)
            continue
        held = pl.concat(
            [
                held,
                keys.select(
                    *key,
                    pl.lit(partition).alias(HOLDER),
                    pl.col(SOURCE_ROW).alias(HOLDER_ROW),
                ),
            ],
            how="vertical_relaxed",
        )
    return refused


def _problem(row: dict[str, object], key: tuple[str, ...], *, hint: bool) -> Problem:
    values = ", ".join(str(row[c]) for c in key)
    names = ", ".join(key)
    advice = " (a correction? declare mode: upsert; repeats expected? duplicates: allow)"
    return Problem(
        f"key ({names}) already published by upload {row[HOLDER]!r} (row {row[HOLDER_ROW]})"
        + (advice if hint else ""),
        row=int(str(row[SOURCE_ROW])),
        column=key[0] if len(key) == 1 else None,
        value=values,
    )


@dataclass
class Supersession:
    """upsert: what each upload of the batch keeps, and what the table loses."""

    # partition of the batch -> its key rows that a later upload of the batch replaces
    within: dict[str, pl.DataFrame] = field(default_factory=dict)
    # partition outside the batch -> its key rows the batch replaces
    outside: dict[str, pl.DataFrame] = field(default_factory=dict)


def superseded(
    uploads: list[tuple[str, pl.DataFrame]], existing: pl.DataFrame, key: tuple[str, ...]
) -> Supersession:
    """upsert: the rows the batch replaces (later uploads win; the batch wins over the table).

    `existing`: the table's key columns with `_source_key` (the batch's partitions left out).
    """
    result = Supersession()
    later = pl.DataFrame(schema={c: existing.schema[c] for c in key})  # an upsert has a key
    for partition, keys in reversed(uploads):
        keyed = keys.select(*key).unique()
        if later.height:
            lost = keyed.join(later, on=list(key), how="semi")
            if lost.height:
                result.within[partition] = lost
        later = pl.concat([later, keyed], how="vertical_relaxed").unique()
    if later.height and existing.height:
        hit = existing.join(later, on=list(key), how="semi")
        for (partition,), rows in hit.group_by(SOURCE_KEY):
            result.outside[str(partition)] = rows.select(*key)
    return result


def replayed(
    changes: pl.DataFrame, others: pl.DataFrame, at: datetime, key: tuple[str, ...]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """upsert: an upload ingested at `at`, replayed from raw. Of the keys it changes (writes
    or deletes), those another upload changed later (its rows of them are no longer current:
    left out), and the others (it holds their current rows: other uploads' rows of them go).

    `others`: the other uploads' versions of these keys (key columns and `_valid_from`,
    tombstones included), from the history.
    """
    later = others.filter(pl.col(VALID_FROM) > at).select(*key).unique()
    keys = changes.select(*key).unique()
    return later, without(keys, later, key)


def without(frame: pl.DataFrame, keys: pl.DataFrame | None, key: tuple[str, ...]) -> pl.DataFrame:
    """`frame` less its rows whose key is in `keys`."""
    if keys is None or not keys.height:
        return frame
    return frame.join(keys, on=list(key), how="anti", nulls_equal=False)
