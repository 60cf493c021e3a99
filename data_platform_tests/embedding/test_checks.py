"""Check functions the embedding asset's checks call: pure over vectors, or over the store."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from data_platform.contracts.columns import SOURCE_KEY
from data_platform.embedding import VectorStore
from data_platform.embedding.checks import (
    partition_vector_count,
    recall_meets_target,
    vectors_finite_and_normalised,
)
from data_platform.settings import Settings


def test_real_embeddings_are_finite_and_normalised(embedded_reviews: pl.DataFrame) -> None:
    outcome = vectors_finite_and_normalised(embedded_reviews)
    assert outcome.passed
    assert outcome.metadata["rows"] == embedded_reviews.height
    assert outcome.metadata["max_norm_error"] < 1e-5


def test_bad_vectors_fail_the_check() -> None:
    vectors = np.eye(4, 384, dtype=np.float32)
    vectors[1, 0] = np.nan
    vectors[2] *= 2.0
    vectors[3] = 0.0
    outcome = vectors_finite_and_normalised(vectors)
    assert not outcome.passed
    assert outcome.metadata["non_finite_rows"] == 1
    assert outcome.metadata["not_normalised_rows"] == 2
    assert "1 non-finite, 2 not unit length" in outcome.description


@pytest.mark.integration
def test_partition_count_and_recall_checks(
    settings: Settings, embedded_reviews: pl.DataFrame
) -> None:
    store = VectorStore.from_settings(settings)
    store.replace_partition("reviews", "day-1", embedded_reviews, id_column="review_id")
    assert partition_vector_count(store, "reviews", "day-1", 600).passed
    missing = partition_vector_count(store, "reviews", "day-1", 601)
    assert not missing.passed
    assert missing.metadata == {"vectors": 600, "source_rows": 601, SOURCE_KEY: "day-1"}
    assert partition_vector_count(store, "reviews", "day-2", 0).passed
    store.ensure_index("reviews", sample=40)
    recall = recall_meets_target(store, "reviews", sample=30)
    assert recall.passed, recall.description
    assert recall.metadata["index_type"] == "IVF_FLAT"
