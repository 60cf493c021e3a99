"""The tabular model learns a class or a value, from a spec a contract derives; it pickles."""

from __future__ import annotations

import pickle

import numpy as np
import polars as pl
import pytest

from data_platform.contracts import parse_contract
from data_platform.inference.model import ModelSpec, TabularModel, train_model
from data_platform.ingest.features import build_features
from data_platform.synthetic import REVIEW_CLASSES, review_model_spec
from data_platform_tests.defs.helpers import sample_contract


def test_model_learns_the_category(model: TabularModel, unseen: pl.DataFrame) -> None:
    assert model.accuracy(unseen) > 0.8  # texts carry the class, with 10% label noise
    assert sorted(model.classes) == sorted(REVIEW_CLASSES)
    predictions = model.predict(unseen)
    assert predictions.shape == (unseen.height,)
    assert set(predictions) <= set(REVIEW_CLASSES)


def test_predict_proba_rows_are_distributions(model: TabularModel, unseen: pl.DataFrame) -> None:
    proba = model.predict_proba(unseen)
    assert proba.shape == (unseen.height, len(REVIEW_CLASSES))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    best = np.array(model.classes)[proba.argmax(axis=1)]
    assert (best == model.predict(unseen)).all()


def test_pickled_model_predicts_the_same(model: TabularModel, unseen: pl.DataFrame) -> None:
    clone = pickle.loads(pickle.dumps(model))
    assert (clone.predict(unseen) == model.predict(unseen)).all()


def test_a_contract_target_gives_a_model_over_the_transformed_table(unseen: pl.DataFrame):
    contract = sample_contract("reviews")
    spec = ModelSpec.from_contract(contract)
    assert spec.target == "category"
    assert spec.task == "classification"
    assert "category" not in spec.inputs
    assert "text_length" in spec.numeric
    transformed = build_features(unseen.with_columns(pl.lit("k").alias("_source_key")), contract)
    model = train_model(transformed.head(2_000), spec)
    assert model.accuracy(transformed.tail(300)) > 0.8


def test_a_regression_target_is_predicted_as_a_number():
    contract = parse_contract(
        """
name: prices
target: {column: price, task: regression}
columns:
  size: {type: float}
  kind: {type: string, allowed: [small, large]}
  price: {type: float}
""",
        "prices.yaml",
    )
    rng = np.random.default_rng(0)
    size = rng.uniform(1, 10, 2_000)
    kind = np.where(rng.random(2_000) < 0.5, "small", "large")
    price = 3 * size + np.where(kind == "large", 20, 0) + rng.normal(0, 0.5, 2_000)
    frame = pl.DataFrame({"size": size, "kind": kind, "price": price})
    spec = ModelSpec.from_contract(contract)
    assert spec.categorical == ("kind",)
    assert spec.numeric == ("size",)
    model = train_model(frame, spec)
    error = model.predict(frame) - price
    assert float(np.sqrt(np.mean(error**2))) < 2.0  # the target's spread is about 11
    with pytest.raises(ValueError, match="classification"):
        model.predict_proba(frame)


def test_training_is_deterministic(unseen: pl.DataFrame) -> None:
    frame = unseen.head(1_000)
    first = train_model(frame, review_model_spec(), seed=5)
    second = train_model(frame, review_model_spec(), seed=5)
    assert (first.predict(unseen) == second.predict(unseen)).all()


def test_training_needs_two_classes() -> None:
    frame = pl.DataFrame({"text": ["a b"] * 20, "category": ["books"] * 20}).with_columns(
        rating=pl.lit(1), price=pl.lit(1.0), helpful_votes=pl.lit(0), is_verified=pl.lit(True)
    )
    with pytest.raises(ValueError, match="two classes"):
        train_model(frame, review_model_spec())
