"""A small trained model and frames shared by the inference tests (trained once)."""

from __future__ import annotations

import polars as pl
import pytest

from data_platform.inference.model import TabularModel, train_model
from data_platform.synthetic import generate_reviews, review_model_spec


@pytest.fixture(scope="package")
def model() -> TabularModel:
    return train_model(generate_reviews(4_000, seed=1), review_model_spec())


@pytest.fixture(scope="package")
def unseen() -> pl.DataFrame:
    return generate_reviews(2_345, seed=2)
