"""Parsing uploads and staging them: every kind of bad upload names its row and column."""

from __future__ import annotations

import polars as pl
import pytest

from data_platform.core.generate import generate_reviews, generate_tickets
from data_platform.core.ingest import read_upload
from data_platform.core.problems import UploadError, summarise
from data_platform.core.staging import stage
from data_platform.demo.samples import encode
from data_platform.schemas.reviews import StagedReviews


def _raw(data: bytes, name: str) -> pl.DataFrame:
    return read_upload(data, name).with_columns(
        pl.lit(name).alias("_source_key"), pl.int_range(1, pl.len() + 1).alias("_source_row")
    )


@pytest.mark.parametrize("name", ["a.csv", "a.parquet", "a.jsonl"])
def test_every_format_round_trips_to_the_same_typed_rows(name):
    frame = generate_reviews(200, seed=7)
    raw = _raw(encode(frame, name), name)
    assert all(dtype == pl.String for c, dtype in raw.schema.items() if not c.startswith("_"))
    result = stage(raw, StagedReviews, "text")
    assert result.problems == []
    assert result.frame.drop("_source_key", "_source_row").equals(frame)


def test_generators_are_deterministic_by_seed():
    assert generate_reviews(500, seed=3).equals(generate_reviews(500, seed=3))
    assert not generate_reviews(500, seed=3).equals(generate_reviews(500, seed=4))
    assert generate_tickets(10, seed=1, start_id=5)["ticket_id"][0] == "t-0000005"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n", "the file is empty"),
        (b"review_id,text\n", "header but no rows"),
        ("review_id,text\nr1,caf\u00e9\n".encode("latin-1"), "row 1, column 'text': not UTF-8"),
    ],
)
def test_unreadable_uploads_raise_with_row_and_column(data, message):
    with pytest.raises(UploadError, match=message) as err:
        read_upload(data, "landing/reviews/bad.csv")
    assert "landing/reviews/bad.csv" in str(err.value)


def test_unknown_file_type_is_refused():
    with pytest.raises(UploadError, match="unsupported file type '.xlsx'"):
        read_upload(b"whatever", "x.xlsx")


def test_unparseable_values_name_row_column_and_value():
    csv = encode(generate_reviews(5, seed=1), "a.csv").decode().splitlines()
    fields = csv[3].split(",")
    fields[3] = "five"  # rating of data row 3
    csv[3] = ",".join(fields)
    result = stage(_raw("\n".join(csv).encode(), "a.csv"), StagedReviews, "text")
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "rating", "five")]
    assert "row 3, column 'rating': cannot parse as Int64 (value 'five')" in summarise(
        "s3://lake/landing/reviews/a.csv", result.problems
    )


def test_wrong_columns_are_reported_once_each():
    frame = generate_reviews(5).rename({"rating": "stars"})
    result = stage(_raw(encode(frame, "a.csv"), "a.csv"), StagedReviews, "text")
    assert {(p.column, p.reason) for p in result.problems} == {
        ("rating", "missing column"),
        ("stars", "unexpected column"),
    }


def test_model_rules_are_enforced_per_row():
    frame = generate_reviews(6, seed=2).with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("bookz"))
        .otherwise("category")
        .alias("category"),
        pl.when(pl.int_range(pl.len()) == 1).then(9).otherwise("rating").alias("rating"),
    )
    result = stage(_raw(encode(frame, "a.csv"), "a.csv"), StagedReviews, "text")
    found = {(p.row, p.column) for p in result.problems}
    assert found == {(5, "category"), (2, "rating")}
    assert not result.ok


def test_cleaning_trims_and_empties_become_missing():
    frame = generate_reviews(3).with_columns(pl.lit("  Great   kettle  ").alias("text"))
    raw = _raw(encode(frame, "a.csv"), "a.csv")
    assert stage(raw, StagedReviews, "text").frame["text"].to_list() == ["Great kettle"] * 3
    empty = frame.with_columns(pl.lit("   ").alias("text"))
    result = stage(_raw(encode(empty, "a.csv"), "a.csv"), StagedReviews, "text")
    assert {p.column for p in result.problems} == {"text"}
    assert len(result.problems) == 3
