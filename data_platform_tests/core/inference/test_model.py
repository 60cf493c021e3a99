"""The review model learns the category, works on raw and transformed frames, pickles."""

from __future__ import annotations

import pickle

import numpy as np
import polars as pl
import pytest

from data_platform.core.generate import REVIEW_CLASSES
from data_platform.core.inference import ReviewModel, model_inputs, train_model


def test_model_learns_the_category(model: ReviewModel, unseen: pl.DataFrame) -> None:
    assert model.accuracy(unseen) > 0.8  # texts carry the class, with 10% label noise
    assert sorted(model.classes) == sorted(REVIEW_CLASSES)
    predictions = model.predict(unseen)
    assert predictions.shape == (unseen.height,)
    assert set(predictions) <= set(REVIEW_CLASSES)


def test_predict_proba_rows_are_distributions(model: ReviewModel, unseen: pl.DataFrame) -> None:
    proba = model.predict_proba(unseen)
    assert proba.shape == (unseen.height, len(REVIEW_CLASSES))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    best = np.array(model.classes)[proba.argmax(axis=1)]
    assert (best == model.predict(unseen)).all()


def test_pickled_model_predicts_the_same(model: ReviewModel, unseen: pl.DataFrame) -> None:
    clone = pickle.loads(pickle.dumps(model))
    assert (clone.predict(unseen) == model.predict(unseen)).all()


def test_transformed_table_gives_the_same_predictions(
    model: ReviewModel, unseen: pl.DataFrame
) -> None:
    """The transformed table has text_length/word_count and Float64 numerics already."""
    transformed = unseen.with_columns(
        pl.col("text").str.len_chars().cast(pl.Float64).alias("text_length"),
        pl.col("text").str.count_matches(r"\S+").cast(pl.Float64).alias("word_count"),
        pl.col("rating", "price", "helpful_votes", "is_verified").cast(pl.Float64),
    )
    assert (model.predict(transformed) == model.predict(unseen)).all()
    assert model_inputs(unseen).columns == model_inputs(transformed).columns


def test_training_is_deterministic(unseen: pl.DataFrame) -> None:
    frame = unseen.head(1_000)
    first, second = train_model(frame, seed=5), train_model(frame, seed=5)
    assert (first.predict(unseen) == second.predict(unseen)).all()


def test_training_needs_two_classes() -> None:
    frame = pl.DataFrame({"text": ["a b"] * 20, "category": ["books"] * 20}).with_columns(
        rating=pl.lit(1), price=pl.lit(1.0), helpful_votes=pl.lit(0), is_verified=pl.lit(True)
    )
    with pytest.raises(ValueError, match="two classes"):
        train_model(frame)
