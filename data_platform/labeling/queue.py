"""Which records to label next: least confident predictions first, else a stratified sample.

When `inference.<dataset>` exists, records the model is least sure about come first
(uncertainty sampling); without predictions, records are taken round-robin across the
values of the dataset's label column so every class is represented. Ties and the order
inside a class are decided by a hash of the record id, so a re-run picks the same records.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.splits import stable_unit

_HASH = "__order"


@dataclass(frozen=True)
class Selection:
    """The records to push, in priority order, and how they were prioritised."""

    frame: pl.DataFrame  # id, text (what the annotator reads), source key, prediction
    method: str
    candidates: int


def select_for_labeling(
    staged: pl.DataFrame,
    spec: Contract,
    batch_size: int,
    *,
    exclude: Collection[str] = (),
    predictions: pl.DataFrame | None = None,
) -> Selection:
    """Up to `batch_size` records of `staged` not in `exclude` (labeled or already queued).

    `staged` has the record id as text and a `text` column: what the annotator reads.
    """
    key = spec.id_column
    pool = staged.unique(key, keep="first", maintain_order=True)
    if exclude:
        pool = pool.filter(~pl.col(key).is_in(list(exclude)))
    pool = pool.with_columns(
        pl.Series(_HASH, [stable_unit(i) for i in pool[key].to_list()], dtype=pl.Float64)
    )
    if predictions is not None and predictions.height:
        chosen = _least_confident(pool, predictions, key)
        method = f"lowest model confidence first ({spec.table('inference')})"
    elif spec.label_column and spec.label_column in pool.columns:
        chosen = _stratified(pool, spec.label_column)
        method = f"stratified by {spec.label_column} (no predictions in {spec.table('inference')})"
    else:
        chosen = pool.sort(_HASH)
        method = "hash-ordered sample (no predictions, no label column)"
    if "confidence" not in chosen.columns:
        chosen = chosen.with_columns(
            pl.lit(None, pl.String).alias("predicted_label"),
            pl.lit(None, pl.Float64).alias("confidence"),
        )
    columns = [key, "text", SOURCE_KEY, "predicted_label", "confidence"]
    return Selection(chosen.head(batch_size).select(columns), method, pool.height)


def _least_confident(pool: pl.DataFrame, predictions: pl.DataFrame, key: str) -> pl.DataFrame:
    preds = predictions.select(
        pl.col(key).cast(pl.String),
        pl.col("predicted_label").cast(pl.String),
        pl.col("confidence").cast(pl.Float64),
    ).unique(key, keep="last")
    joined = pool.join(preds, on=key, how="left", maintain_order="left")
    # records without a prediction go last: the model has not seen them yet
    return joined.sort(
        [pl.col("confidence").is_null(), pl.col("confidence"), pl.col(_HASH)],
    )


def _stratified(pool: pl.DataFrame, label: str) -> pl.DataFrame:
    ranked = pool.sort(_HASH).with_columns(pl.int_range(pl.len()).over(label).alias("__rank"))
    return ranked.sort(["__rank", label], nulls_last=True).drop("__rank")
