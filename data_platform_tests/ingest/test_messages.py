"""Refusals a person can read: each problem once, with the text the file held."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from data_platform.contracts import Contract
from data_platform.ingest import Ingestion, Upload, upload_format
from data_platform.ingest.problems import summarise
from data_platform.ops.demo.samples import encode
from data_platform.synthetic import generate_reviews

DAYS = Contract.model_validate(
    {
        "name": "days",
        "version": 1,
        "key": ["day"],
        "columns": {"day": {"type": "date"}, "temp": {"type": "float"}},
    }
)


def _jsonl(days: list[str]) -> bytes:
    """JSON Lines as pandas writes them (`to_json(orient="records", lines=True)`)."""
    return "".join(json.dumps({"day": d, "temp": 1.5}) + "\n" for d in days).encode()


def _messages(problems) -> str:
    return summarise("s3://lake/landing/x", problems, limit=len(problems))


@pytest.mark.parametrize(
    "written",
    [
        "2012-01-01T00:00:00",
        "2012-01-01T00:00:00.000",  # pandas' date_format="iso"
        "2012-01-01T00:00:00.000Z",  # JavaScript's toISOString
        "2012-01-01T00:00:00Z",
        "2012-01-01 00:00:00",
        "2012-01-01T00:00",
        " 2012-01-01T00:00:00 ",
    ],
)
@pytest.mark.parametrize("name", ["a.jsonl", "a.csv"])
def test_a_date_column_takes_iso_datetimes_at_midnight(ingest, written, name):
    days = [written, "2012-01-02T00:00:00.000", "2012-01-03"]
    if name == "a.csv":
        data = ("day,temp\n" + "".join(f'"{d}",1.5\n' for d in days)).encode()
    else:
        data = _jsonl(days)
    verdict, layers = ingest(data, name, contract=DAYS)
    assert verdict.ok, verdict.problems
    assert layers["staged"]["day"].to_list() == [date(2012, 1, d) for d in (1, 2, 3)]
    assert layers["raw"]["_rescued_data"].null_count() == 3


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("2012-01-01T13:00:00", "the value has a time of day"),
        ("2012-01-01T00:00:01.000", "the value has a time of day"),
        ("2012-01-01 23:59", "the value has a time of day"),
        ("2012-01-01T00:00:00+02:00", "the value has a time zone offset"),
    ],
)
def test_a_date_with_a_time_of_day_is_refused_saying_a_date_was_expected(ingest, written, why):
    verdict, layers = ingest(_jsonl(["2012-01-02", written]), "a.jsonl", contract=DAYS)
    assert [(p.row, p.column, p.value) for p in verdict.problems] == [(2, "day", written)]
    assert verdict.problems[0].reason == f"cannot parse as date: a date was expected, {why}"
    assert f"cannot parse as date: a date was expected, {why} (value '{written}')" in (
        _messages(verdict.problems)
    )
    assert json.loads(layers["raw"]["_rescued_data"][1]) == {"day": written}


def test_an_unparsed_key_is_reported_once_not_as_a_duplicate(ingest):
    """Two values that fail to parse are null in the key column: they are not duplicates."""
    days = ["2012-13-01", "2012-14-01", "2012-01-01"]
    verdict, _ = ingest(_jsonl(days), "a.jsonl", contract=DAYS)
    assert [(p.row, p.column, p.reason) for p in verdict.problems] == [
        (1, "day", "cannot parse as date"),
        (2, "day", "cannot parse as date"),
    ]
    assert verdict.problem_count == 2


def test_many_unparsed_values_count_once_each(ingest):
    """Past the listed problems (1,000), a failed value still counts once: not again as a
    missing value of a non-nullable column, nor as a repeat of the key."""
    days = [f"day {n}" for n in range(1_461)]
    verdict, _ = ingest(_jsonl(days), "a.jsonl", contract=DAYS, batch_rows=500)
    assert verdict.problem_count == 1_461
    assert {p.reason for p in verdict.problems} == {"cannot parse as date"}


def test_missing_values_in_a_unique_column_are_not_repeats(ingest):
    frame = generate_reviews(4, seed=1)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) >= 2).then(pl.lit("")).otherwise("review_id")
        .alias("review_id")
    )  # fmt: skip
    verdict, _ = ingest(encode(frame, "a.csv"))
    assert {(p.row, p.column) for p in verdict.problems} == {(3, "review_id"), (4, "review_id")}
    assert not [p for p in verdict.problems if "not unique" in p.reason]


def _with_price(value: str, row: int = 2) -> bytes:
    lines = encode(generate_reviews(4, seed=1), "a.csv").decode().splitlines()
    fields = lines[row].split(",")
    fields[4] = value  # price
    lines[row] = ",".join(fields)
    return "\n".join(lines).encode()


@pytest.mark.parametrize("value", ["1e400", "-1e400", "1E999"])
def test_an_overflowing_float_is_reported_with_the_text_the_file_held(ingest, reviews, value):
    verdict, layers = ingest(_with_price(value))
    assert [(p.row, p.column, p.value) for p in verdict.problems] == [(2, "price", value)]
    assert f"(value '{value}')" in _messages(verdict.problems)
    assert "inf" not in _messages(verdict.problems).replace(value, "")
    raw = layers["raw"]
    assert raw["price"][1] is None
    assert json.loads(raw["_rescued_data"][1]) == {"price": value}  # raw keeps the text
    # a replay from raw names the same text
    replay = Ingestion(reviews, Upload("s3://lake/x", "x.csv", "e", upload_format("x.csv")))
    replay.replay(raw)
    assert [(p.row, p.column, p.value) for p in replay.verdict.problems] == [(2, "price", value)]


@pytest.mark.parametrize(("value", "shown"), [("Infinity", "Infinity"), ("-2.50", "-2.50")])
def test_a_rule_names_the_value_as_written(ingest, value, shown):
    verdict, _ = ingest(_with_price(value))
    assert [(p.row, p.column, p.value) for p in verdict.problems] == [(2, "price", shown)]


@pytest.mark.parametrize(
    ("separator", "name", "expected"),
    [(";", "a.csv", ","), ("\t", "a.csv", ","), ("|", "a.csv", ","), (",", "a.tsv", "\t")],
)
def test_a_file_with_another_separator_gets_one_hint(ingest, separator, name, expected):
    frame = generate_reviews(30, seed=1).drop("text")
    data = frame.write_csv(separator=separator).encode()
    verdict, _ = ingest(data, name)
    assert len(verdict.problems) == 1, verdict.problems
    assert verdict.problem_count == 1
    header = separator.join(frame.columns)
    assert verdict.problems[0].reason == (
        f"the header has one column {header!r}: it looks {separator!r}-separated; "
        f"the contract expects {expected!r}"
    )


def test_a_date_column_takes_parquet_datetimes_at_midnight_only(ingest):
    """A typed datetime into a date column: midnight is the day; any other time of day is
    refused (it was cut to its day before), named as the file held it."""
    frame = pl.DataFrame(
        {
            "day": [datetime(2012, 1, 1), datetime(2012, 1, 2, 13)],
            "temp": [1.5, 2.5],
        }
    )
    verdict, layers = ingest(encode(frame, "a.parquet"), "a.parquet", contract=DAYS)
    assert [(p.row, p.column) for p in verdict.problems] == [(2, "day")]
    assert verdict.problems[0].reason == (
        "cannot parse as date: a date was expected, the value has a time of day"
    )
    assert layers["raw"]["day"].to_list() == [date(2012, 1, 1), None]
