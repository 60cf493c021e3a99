"""The point-in-time join never returns a value from after the event's time (#29).

Checked against a brute-force join (for each event, the latest version of its key with
valid_from <= the event's time) on generated histories and events (hypothesis).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from data_platform.contracts.columns import VALID_FROM, VALID_TO
from data_platform.history import point_in_time_join, with_validity

START = datetime(2026, 1, 1, tzinfo=UTC)


def versions_frame(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    """(key, minute it became current, value) -> a history frame."""
    return pl.DataFrame(
        {
            "k": [k for k, _, _ in rows],
            VALID_FROM: [START + timedelta(minutes=m) for _, m, _ in rows],
            "value": [v for _, _, v in rows],
        },
        schema={"k": pl.Int64, VALID_FROM: pl.Datetime("us", "UTC"), "value": pl.Int64},
    )


def brute(events: list[tuple[int, int]], rows: list[tuple[int, int, int]]) -> list[int | None]:
    found: list[int | None] = []
    for key, minute in events:
        best = None
        for k, m, v in rows:
            if k == key and m <= minute and (best is None or m >= best[0]):
                best = (m, v)
        found.append(best[1] if best else None)
    return found


# one version per key and minute (a key's versions have distinct times, as uploads do)
histories = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 60), st.integers(-1000, 1000)),
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)
event_lists = st.lists(st.tuples(st.integers(0, 5), st.integers(-5, 70)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(histories, event_lists)
def test_the_join_matches_a_brute_force_join_and_never_looks_ahead(rows, events):
    events_frame = pl.DataFrame(
        {
            "k": [k for k, _ in events],
            "seen_at": [START + timedelta(minutes=m) for _, m in events],
        },
        schema={"k": pl.Int64, "seen_at": pl.Datetime("us", "UTC")},
    )
    joined = point_in_time_join(events_frame, versions_frame(rows), on=["k"], at="seen_at")
    assert joined["value"].to_list() == brute(events, rows)
    assert joined["k"].to_list() == [k for k, _ in events]  # events keep their order
    matched = joined.filter(pl.col(VALID_FROM).is_not_null())
    assert (matched[VALID_FROM] <= matched["seen_at"]).all()


def test_a_naive_event_time_is_utc_and_a_date_is_its_midnight():
    history = versions_frame([(1, 0, 10), (1, 24 * 60, 20)])
    naive = pl.DataFrame({"k": [1, 1], "at": [datetime(2026, 1, 1, 23), datetime(2026, 1, 2)]})
    assert point_in_time_join(naive, history, on=["k"], at="at")["value"].to_list() == [10, 20]
    dates = pl.DataFrame({"k": [1], "day": [datetime(2026, 1, 2).date()]})
    assert point_in_time_join(dates, history, on=["k"], at="day")["value"].to_list() == [20]


def test_validity_runs_until_the_next_version():
    history = with_validity(versions_frame([(1, 5, 2), (1, 0, 1), (2, 3, 7)]), ["k"])
    assert history.select("k", "value").rows() == [(1, 1), (1, 2), (2, 7)]
    ends = history[VALID_TO].to_list()
    assert ends == [START + timedelta(minutes=5), None, None]
