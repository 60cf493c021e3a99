"""Reviews embedded once per test session: the model load and 600 texts take a few seconds."""

from __future__ import annotations

import polars as pl
import pytest

from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.embedding.model import embed_frame
from data_platform.synthetic import generate_reviews

ROWS = 600  # above MIN_INDEX_ROWS (256), so an IVF index can be built and measured


@pytest.fixture(scope="session")
def embedded_reviews() -> pl.DataFrame:
    """600 demo reviews with the columns the embedding asset keeps, and their vectors."""
    frame = generate_reviews(ROWS, seed=7).select("review_id", "text", "category", "created_at")
    return embed_frame(frame.with_columns(pl.lit(1, pl.Int64).alias(STAGED_SNAPSHOT_ID)))
