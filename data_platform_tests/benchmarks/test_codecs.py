"""Every library writes and reads back the demo data unchanged (values and timestamps)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data_platform.benchmarks.cases import SUPPORTED
from data_platform.benchmarks.codecs import get_codec, to_polars
from data_platform.synthetic import generate_reviews


@pytest.fixture(scope="module")
def reviews() -> pl.DataFrame:
    return generate_reviews(2_000, seed=3)


@pytest.mark.parametrize(("fmt", "library"), SUPPORTED, ids=lambda v: str(v))
def test_round_trip(reviews: pl.DataFrame, fmt: str, library: str, tmp_path: Path) -> None:
    codec = get_codec(fmt, library)
    path = str(tmp_path / f"data.{codec.extension}")
    codec.write(codec.prepare(reviews), path)
    loaded = to_polars(codec.read(path, reviews.schema)).select(reviews.columns)
    loaded = loaded.with_columns(pl.col("created_at").dt.cast_time_unit("us"))
    assert_frame_equal(loaded, reviews, check_dtypes=False)
    assert loaded.schema["created_at"] == pl.Datetime("us", "UTC")
