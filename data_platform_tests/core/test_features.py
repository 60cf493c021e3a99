"""Transformed features follow the dataset declaration."""

from __future__ import annotations

import polars as pl

from data_platform.core.features import build_features, feature_columns
from data_platform.datasets import get_dataset


def test_features_are_float_and_declared_by_type():
    spec = get_dataset("reviews")
    staged = spec.generator(50, seed=1).with_columns(pl.lit("k").alias("_source_key"))
    features = build_features(staged, spec)
    columns = feature_columns(spec)
    assert columns[:2] == ["text_length", "word_count"]
    assert "created_at_hour" in columns
    assert "is_verified" in columns
    assert all(features.schema[c] == pl.Float64 for c in columns)
    assert features["text_length"][0] == len(staged["text"][0])
    assert features["text"][0] == staged["text"][0].lower()
    assert features.height == 50
    assert features["category"].to_list() == staged["category"].to_list()


def test_a_second_dataset_needs_only_its_declaration():
    spec = get_dataset("tickets")
    staged = spec.generator(20, seed=1).with_columns(pl.lit("k").alias("_source_key"))
    features = build_features(staged, spec)
    assert set(feature_columns(spec)) <= set(features.columns)
    assert "reply_minutes" in features.columns
    assert "priority" in features.columns
