"""Transformed features follow the dataset contract."""

from __future__ import annotations

from datetime import date

import polars as pl

from data_platform.ingest.features import build_features, feature_columns
from data_platform_tests.defs.helpers import sample_contract, sample_rows


def test_features_are_float_and_declared_by_type():
    spec = sample_contract("reviews")
    staged = sample_rows(spec.name, 50, seed=1).with_columns(pl.lit("k").alias("_source_key"))
    features = build_features(staged, spec)
    columns = feature_columns(spec)
    assert columns[:2] == ["text_length", "text_word_count"]
    assert "created_at_hour" in columns
    assert "is_verified" in columns
    assert all(features.schema[c] == pl.Float64 for c in columns)
    assert features["text_length"][0] == len(staged["text"][0])
    assert features["text"][0] == staged["text"][0].lower()
    assert features.height == 50
    assert features["category"].to_list() == staged["category"].to_list()


def test_word_counts_and_nulls():
    from data_platform.contracts import parse_contract

    contract = parse_contract(
        "name: notes\ntext: [body]\ncolumns:\n  body: {type: string, nullable: true}\n"
        "  day: {type: date}\n  tags: {type: list, items: string}\n",
        "notes.yaml",
    )
    staged = pl.DataFrame(
        {
            "body": ["one two three", None],
            "day": [date(2026, 11, 30), date(2026, 12, 1)],
            "tags": [["a"], []],
            "_record_id": ["x#1", "x#2"],
            "_source_key": ["x", "x"],
        },
    )
    features = build_features(staged, contract)
    assert features["body_word_count"].to_list() == [3.0, 0.0]
    assert features["day_day_of_week"].to_list() == [1.0, 2.0]
    assert features["tags_count"].to_list() == [1.0, 0.0]


def test_a_second_dataset_needs_only_its_declaration():
    spec = sample_contract("tickets")
    staged = sample_rows(spec.name, 20, seed=1).with_columns(pl.lit("k").alias("_source_key"))
    features = build_features(staged, spec)
    assert set(feature_columns(spec)) <= set(features.columns)
    assert "reply_minutes" in features.columns
    assert "priority" in features.columns
