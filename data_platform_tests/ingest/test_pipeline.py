"""Reading, typing and validating uploads: every problem names its row and column."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import polars as pl
import pytest
import zstandard

from data_platform.ingest.problems import summarise
from data_platform.ops.demo.samples import encode
from data_platform.synthetic import generate_reviews, generate_tickets

PLATFORM = ["_source_key", "_source_row"]


@pytest.mark.parametrize("name", ["a.csv", "a.parquet", "a.jsonl"])
def test_every_format_round_trips_to_the_same_typed_rows(ingest, name):
    frame = generate_reviews(200, seed=7)
    verdict, layers = ingest(encode(frame, name), name)
    assert verdict.ok, verdict.problems
    assert layers["staged"].drop(PLATFORM).equals(frame)
    assert layers["raw"]["_rescued_data"].null_count() == 200
    assert layers["raw"]["_source_row"].to_list() == list(range(1, 201))


@pytest.mark.parametrize("name", ["a.csv.gz", "a.jsonl.gz", "a.csv.zst"])
def test_compressed_uploads_are_decompressed(ingest, name):
    frame = generate_reviews(50, seed=3)
    plain = encode(frame, name.rsplit(".", 1)[0])
    data = gzip.compress(plain) if name.endswith(".gz") else zstandard.compress(plain)
    verdict, layers = ingest(data, name)
    assert verdict.ok, verdict.problems
    assert layers["staged"].drop(PLATFORM).equals(frame)


def test_large_uploads_come_in_batches_with_the_same_rows(ingest):
    frame = generate_reviews(2_500, seed=4)
    verdict, layers = ingest(encode(frame, "a.csv"), batch_rows=1_000)
    assert verdict.ok
    assert verdict.rows == 2_500
    assert layers["staged"].drop(PLATFORM).equals(frame)


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
        (b"review_id,review_id\n1,2\n", "the header repeats column(s) 'review_id'"),
        (b"review_id,text\nr1,a,b\n", "row 1: has 3 field(s), the header has 2"),
        (gzip.compress(b"review_id\n1\n", mtime=0), "it looks like gzip-compressed data; name it"),
        ("review_id,text\n1,2\n".encode("utf-16"), "it looks like UTF-16 text"),
        (b"PK\x03\x04" + b"\x00" * 40, "it looks like a zip archive"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "it looks like a PNG image"),
    ],
)
def test_unreadable_uploads_say_why_with_row_and_column(ingest, data, message):
    verdict, layers = ingest(data, "bad.csv")
    assert not verdict.ok
    text = summarise("s3://lake/landing/reviews/bad.csv", verdict.problems)
    assert message in text
    assert "staged" not in layers


def test_nul_bytes_never_crash(ingest):
    data = encode(generate_reviews(5), "a.csv").replace(b"kettle", b"ket\x00tle", 1)
    data = data.replace(b"r-000000002", b"r-0000\x00\x00002")
    verdict, _ = ingest(data)  # a reader panic would escape as a BaseException here
    assert verdict.ok or verdict.problems


def test_unknown_file_type_is_refused(ingest):
    from data_platform.ingest import upload_format
    from data_platform.ingest.problems import UploadError

    with pytest.raises(UploadError, match="unsupported file type '.xlsx'"):
        upload_format("x.xlsx")


def test_unparseable_values_are_rescued_and_named(ingest):
    csv = encode(generate_reviews(5, seed=1), "a.csv").decode().splitlines()
    fields = csv[3].split(",")
    fields[3] = "five"  # rating of data row 3
    csv[3] = ",".join(fields)
    verdict, layers = ingest("\n".join(csv).encode())
    assert [(p.row, p.column, p.value) for p in verdict.problems] == [(3, "rating", "five")]
    assert "row 3, column 'rating': cannot parse as integer (value 'five')" in summarise(
        "s3://lake/landing/reviews/a.csv", verdict.problems
    )
    raw = layers["raw"]
    assert raw.height == 5  # raw keeps every row; the bad value's text is rescued
    assert raw.filter(pl.col("_source_row") == 3)["rating"].to_list() == [None]
    assert json.loads(raw.filter(pl.col("_source_row") == 3)["_rescued_data"][0]) == {
        "rating": "five"
    }


def test_values_with_spaces_or_other_spellings_are_typed_like_exact_ones(ingest):
    """Each column is first parsed exactly, then, where that missed values, leniently
    (trimmed, any case); a value neither parse takes is still rescued and named."""
    csv = encode(generate_reviews(4, seed=1), "a.csv").decode().splitlines()
    for line, (rating, price, votes, verified) in zip(
        (1, 2, 3),
        [(" 4 ", " 2.5", "7 ", " YES "), ("3", "1.25", "0", "No"), ("2", "9", "x1", "f")],
        strict=True,
    ):
        fields = csv[line].split(",")
        fields[3:7] = [rating, price, votes, verified]
        csv[line] = ",".join(fields)
    verdict, layers = ingest("\n".join(csv).encode())
    assert [(p.row, p.column, p.value) for p in verdict.problems] == [(3, "helpful_votes", "x1")]
    raw = layers["raw"].head(3)
    assert raw["rating"].to_list() == [4, 3, 2]
    assert raw["price"].to_list() == [2.5, 1.25, 9.0]
    assert raw["helpful_votes"].to_list() == [7, 0, None]
    assert raw["is_verified"].to_list() == [True, False, False]


@pytest.mark.parametrize("value", ["inf", "-inf", "NaN", "1e400", "9" * 1000])
def test_non_finite_numbers_are_refused_by_default(ingest, value):
    csv = encode(generate_reviews(4, seed=1), "a.csv").decode().splitlines()
    fields = csv[2].split(",")
    fields[4] = value  # price of data row 2
    csv[2] = ",".join(fields)
    verdict, _ = ingest("\n".join(csv).encode())
    assert [(p.row, p.column) for p in verdict.problems] == [(2, "price")]


def test_wrong_columns_are_reported_once_each(ingest):
    frame = generate_reviews(5).rename({"rating": "stars"})
    verdict, layers = ingest(encode(frame, "a.csv"))
    assert {(p.column, p.reason) for p in verdict.problems} == {
        ("rating", "missing column"),
        ("stars", "unexpected column"),
    }
    rescued = layers["raw"]["_rescued_data"].to_list()
    assert json.loads(rescued[0])["stars"] == str(frame["stars"][0])  # nothing lost


def test_contract_rules_are_enforced_per_row(ingest):
    frame = generate_reviews(6, seed=2).with_columns(
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("bookz"))
        .otherwise("category")
        .alias("category"),
        pl.when(pl.int_range(pl.len()) == 1).then(9).otherwise("rating").alias("rating"),
    )
    verdict, _ = ingest(encode(frame, "a.csv"))
    assert {(p.row, p.column) for p in verdict.problems} == {(5, "category"), (2, "rating")}


def test_uniqueness_holds_across_batches(ingest):
    frame = generate_reviews(30, seed=2)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 25)
        .then(pl.lit(frame["review_id"][3]))
        .otherwise("review_id")
        .alias("review_id")
    )
    verdict, _ = ingest(encode(frame, "a.csv"), batch_rows=10)
    assert [(p.row, p.column, p.reason) for p in verdict.problems] == [
        (26, "review_id", "not unique: the same value as row 4")
    ]


@pytest.mark.parametrize(
    ("text", "staged"),
    [
        ("Great   kettle", "Great kettle"),
        ("Great\tkettle", "Great kettle"),
        ("Great\r\nkettle", "Great kettle"),
        ("Great\u00a0kettle", "Great kettle"),  # a lone no-break space is whitespace too
        ("Café\u2003\u2003au lait", "Café au lait"),
        ("Café au lait", "Café au lait"),
        ("Great kettle", "Great kettle"),
    ],
)
def test_text_whitespace_becomes_single_spaces(ingest, text, staged):
    frame = generate_reviews(4).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(text)).otherwise("text").alias("text")
    )
    verdict, layers = ingest(encode(frame, "a.parquet"), "a.parquet")
    assert verdict.ok, verdict.problems
    assert layers["staged"]["text"][2] == staged
    assert layers["transformed"]["text_word_count"][2] == len(staged.split(" "))


def test_cleaning_trims_and_empties_become_missing(ingest):
    frame = generate_reviews(3).with_columns(pl.lit("  Great   kettle  ").alias("text"))
    verdict, layers = ingest(encode(frame, "a.csv"))
    assert verdict.ok
    assert layers["staged"]["text"].to_list() == ["Great kettle"] * 3
    assert layers["raw"]["text"].to_list() == ["  Great   kettle  "] * 3  # raw: as uploaded
    empty = frame.with_columns(pl.lit("   ").alias("text"))
    verdict, _ = ingest(encode(empty, "a.csv"))
    assert {p.column for p in verdict.problems} == {"text"}
    assert len(verdict.problems) == 3


@pytest.mark.parametrize(
    "written",
    [
        "2025-02-20T23:55:58Z",  # RFC 3339's UTC designator (JavaScript's toISOString)
        "2025-02-20T23:55:58.000Z",
        "2025-02-20 23:55:58Z",
        "2025-02-21T00:55:58+01:00",
        "2025-02-20T18:55:58.000000-0500",
        "2025-02-20 23:55:58+00:00",
        "2025-02-21T00:55+01:00",
    ],
)
def test_datetimes_with_any_offset_spelling_are_the_same_instant(ingest, written):
    csv = encode(generate_reviews(3, seed=1), "a.csv").decode().splitlines()
    fields = csv[2].split(",")
    fields[-1] = written  # created_at of data row 2
    csv[2] = ",".join(fields)
    verdict, layers = ingest("\n".join(csv).encode())
    assert verdict.ok, verdict.problems
    seconds = 0 if written.startswith("2025-02-21T00:55+") else 58
    assert layers["staged"]["created_at"][1] == datetime(2025, 2, 20, 23, 55, seconds, tzinfo=UTC)
