"""Training-ready features from a staged frame, derived from the contract's column types.

Numbers and flags become Float64 (a model takes them as one matrix); text columns are
lower-cased and give their length and word count; datetimes give hour of day and day of
week, dates day of week and month. The record id, the label, the target, categorical
strings and the upload key are kept as they are.
"""

from __future__ import annotations

import polars as pl

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY


def feature_columns(contract: Contract) -> list[str]:
    """The numeric (Float64) feature columns `build_features` produces, in order."""
    return [name for name, _ in _derived(contract)]


def kept_columns(contract: Contract) -> list[str]:
    """Columns `build_features` carries over unchanged (besides the text, lower-cased)."""
    label = [contract.label_column] if contract.label_column else []
    target = [contract.target.column] if contract.target else []
    kept = [contract.id_column, *contract.text, *label, *target]
    for name, column in contract.columns.items():
        if column.type in ("datetime", "date") or (column.type == "string" and column.allowed):
            kept.append(name)
    return list(dict.fromkeys(kept))


def build_features(staged: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Kept columns, text lower-cased, derived features as Float64, and the upload key."""
    kept = [
        pl.col(name).str.to_lowercase() if name in contract.text else pl.col(name)
        for name in kept_columns(contract)
    ]
    derived = [expr.cast(pl.Float64).alias(name) for name, expr in _derived(contract)]
    return staged.select(*kept, *derived, pl.col(SOURCE_KEY))


def _derived(contract: Contract) -> list[tuple[str, pl.Expr]]:
    skip = {contract.id_column, contract.label_column}
    if contract.target is not None:
        skip.add(contract.target.column)
    features: list[tuple[str, pl.Expr]] = []
    for name in contract.text:
        features.append((f"{name}_length", pl.col(name).str.len_chars()))
        # staged text is trimmed with single spaces: words are spaces + 1 (a regex is 4x slower)
        words = pl.col(name).str.count_matches(" ", literal=True) + 1
        features.append(
            (f"{name}_word_count", pl.when(pl.col(name).is_null()).then(0).otherwise(words))
        )
    for name, column in contract.columns.items():
        if name in skip or name in contract.text:
            continue
        if column.type in ("integer", "float", "boolean"):
            features.append((name, pl.col(name)))
        elif column.type == "datetime":
            features.append((f"{name}_hour", pl.col(name).dt.hour()))
            features.append((f"{name}_day_of_week", pl.col(name).dt.weekday()))
        elif column.type == "date":
            features.append((f"{name}_day_of_week", pl.col(name).dt.weekday()))
            features.append((f"{name}_month", pl.col(name).dt.month()))
        elif column.type == "list":
            features.append((f"{name}_count", pl.col(name).list.len()))
    return features
