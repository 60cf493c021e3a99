"""The staged `reviews` table: product reviews with a category label."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_platform.core.generate import REVIEW_CLASSES


class StagedReviews(pa.DataFrameModel):
    """A product review after typing and cleaning."""

    review_id: str = pa.Field(unique=True, nullable=False, str_length={"min_value": 1})
    text: str = pa.Field(nullable=False, str_length={"min_value": 1, "max_value": 5000})
    category: str = pa.Field(nullable=False, isin=list(REVIEW_CLASSES))
    rating: pl.Int64 = pa.Field(nullable=False, ge=1, le=5)
    price: pl.Float64 = pa.Field(nullable=False, ge=0)
    helpful_votes: pl.Int64 = pa.Field(nullable=False, ge=0)
    is_verified: pl.Boolean = pa.Field(nullable=False)
    created_at: pl.Datetime(time_unit="us", time_zone="UTC") = pa.Field(nullable=False)

    class Config:
        strict = True
        coerce = False
