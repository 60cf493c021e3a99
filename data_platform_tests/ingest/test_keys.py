"""The contract's key across uploads, without a store (ingest/keys.py)."""

from __future__ import annotations

import polars as pl

from data_platform.contracts.columns import SOURCE_KEY, SOURCE_ROW
from data_platform.ingest.keys import repeated_keys, superseded, without

KEY = ("date",)


def keys(*dates: str) -> pl.DataFrame:
    return pl.DataFrame({"date": list(dates), SOURCE_ROW: list(range(1, len(dates) + 1))})


def table(**uploads: list[str]) -> pl.DataFrame:
    rows = [(d, name, i + 1) for name, dates in uploads.items() for i, d in enumerate(dates)]
    return pl.DataFrame(rows, schema=["date", SOURCE_KEY, SOURCE_ROW], orient="row")


def test_append_refuses_a_key_the_table_holds_naming_the_upload_and_row():
    existing = table(**{"first.csv": ["d1", "d2", "d3"]})
    found = repeated_keys([("again.jsonl", keys("d9", "d2"))], existing, KEY)
    problems, total = found["again.jsonl"]
    assert total == 1
    [problem] = problems
    assert (problem.row, problem.column, problem.value) == (2, "date", "d2")
    assert "already published by upload 'first.csv' (row 2)" in problem.reason


def test_append_refuses_a_key_an_earlier_upload_of_the_batch_holds_and_only_that_one():
    empty = table()
    uploads = [("a.csv", keys("d1")), ("b.csv", keys("d1", "d2")), ("c.csv", keys("d2"))]
    found = repeated_keys(uploads, empty.cast({"date": pl.String}), KEY)
    assert sorted(found) == ["b.csv"]  # refused: holds nothing, so c.csv's d2 is new
    assert "upload 'a.csv'" in found["b.csv"][0][0].reason


def test_upsert_later_uploads_win_in_the_batch_and_the_batch_wins_over_the_table():
    existing = table(**{"old.csv": ["d1", "d2"], "older.csv": ["d3"]})
    uploads = [("a.csv", keys("d1", "d4")), ("b.csv", keys("d4", "d5"))]
    replaced = superseded(uploads, existing, KEY)
    assert replaced.within["a.csv"]["date"].to_list() == ["d4"]
    assert "b.csv" not in replaced.within
    assert list(replaced.outside) == ["old.csv"]
    assert replaced.outside["old.csv"]["date"].to_list() == ["d1"]
    frame = pl.DataFrame({"date": ["d1", "d2"], "v": [1, 2]})
    assert without(frame, replaced.outside["old.csv"], KEY)["date"].to_list() == ["d2"]
