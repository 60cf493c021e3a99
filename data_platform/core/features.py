"""Training-ready features from a staged frame, derived from the dataset's column types."""

from __future__ import annotations

import polars as pl

from data_platform.datasets.spec import DatasetSpec


def feature_columns(spec: DatasetSpec) -> list[str]:
    """The numeric feature columns `build_features` produces for `spec`, in order."""
    names = ["text_length", "word_count"]
    for name, dtype in spec.columns.items():
        if name in (spec.id_column, spec.text_column, spec.label_column):
            continue
        if dtype.is_numeric() or dtype == pl.Boolean:
            names.append(name)
        elif isinstance(dtype, pl.Datetime):
            names += [f"{name}_hour", f"{name}_day_of_week"]
    return names


def build_features(staged: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Id, cleaned text, label, numeric features (all Float64), timestamps, source key.

    Text is lower-cased for models; numbers and flags become Float64 so a model can take
    the feature columns as one matrix; timestamps add hour-of-day and day-of-week.
    """
    text = pl.col(spec.text_column)
    derived: list[pl.Expr] = [
        text.str.len_chars().cast(pl.Float64).alias("text_length"),
        text.str.count_matches(r"\S+").cast(pl.Float64).alias("word_count"),
    ]
    kept = [pl.col(spec.id_column), text.str.to_lowercase().alias(spec.text_column)]
    if spec.label_column:
        kept.append(pl.col(spec.label_column))
    for name, dtype in spec.columns.items():
        if name in (spec.id_column, spec.text_column, spec.label_column):
            continue
        if dtype.is_numeric() or dtype == pl.Boolean:
            derived.append(pl.col(name).cast(pl.Float64))
        elif isinstance(dtype, pl.Datetime):
            kept.append(pl.col(name))
            derived += [
                pl.col(name).dt.hour().cast(pl.Float64).alias(f"{name}_hour"),
                pl.col(name).dt.weekday().cast(pl.Float64).alias(f"{name}_day_of_week"),
            ]
    return staged.select(*kept, *derived, pl.col("_source_key"))
