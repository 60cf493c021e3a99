"""The landing sensor's plan, without a store: batches, bounds, the cursor, re-asking.

What a tick asks for must stay bounded whatever the backlog (#28): at most `batch_files`
uploads and `batch_mb` MB a batch, `max_runs` batches a tick, `max_in_flight` uploads
asked for and still in landing, a cursor of 11 bytes per upload in flight.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from data_platform.ingest.landing import BatchLimits, PendingUpload, plan_batches


def uploads(n: int, size: int = 100) -> dict[str, PendingUpload]:
    """`n` uploads, one a second, in key order."""
    start = datetime(2026, 12, 7, tzinfo=UTC)
    return {
        f"u/{i:06d}.csv": PendingUpload(
            f"u/{i:06d}.csv", f"etag{i}", size, (start + timedelta(seconds=i)).isoformat()
        )
        for i in range(n)
    }


def nothing_known(keys: list[str]) -> set[str]:
    return set()


def test_a_backlog_is_cut_into_bounded_batches_oldest_first_with_a_bounded_cursor():
    pending = uploads(10_000)
    limits = BatchLimits(batch_files=500, max_runs=8, max_in_flight=2000)
    plan = plan_batches(pending, None, limits=limits, known=nothing_known, now=1000)
    assert [len(b.uploads) for b in plan.batches] == [500, 500, 500, 500]
    asked = [p for b in plan.batches for p in b.partitions]
    assert asked == sorted(pending)[:2000]  # oldest first (upload time, then key)
    assert len(plan.cursor.encode()) <= 64 * 1024
    assert plan.in_flight == 2000
    # nothing left the landing: the next tick asks for nothing more (in flight is full)
    again = plan_batches(pending, plan.cursor, limits=limits, known=nothing_known, now=1010)
    assert again.batches == []
    assert again.cursor == plan.cursor
    # a batch is done (its uploads left landing): as many new ones are asked for
    for partition in plan.batches[0].partitions:
        del pending[partition]
    third = plan_batches(pending, again.cursor, limits=limits, known=nothing_known, now=1020)
    assert [len(b.uploads) for b in third.batches] == [500]
    assert third.batches[0].partitions == sorted(pending)[1500:2000]


def test_batches_respect_the_byte_budget_and_a_large_upload_runs_alone():
    pending = uploads(6, size=40 * 1024 * 1024)
    pending["u/big.csv"] = PendingUpload(
        "u/big.csv", "e", 900 * 1024 * 1024, "2026-12-07T00:00:02.500000+00:00"
    )
    limits = BatchLimits(batch_files=500, batch_mb=100)
    plan = plan_batches(pending, None, limits=limits, known=nothing_known)
    sizes = [[u.size // (1024 * 1024) for u in b.uploads] for b in plan.batches]
    assert sizes == [[40, 40], [40], [900], [40, 40], [40]]


def test_known_partitions_run_alone_and_runs_per_tick_are_bounded():
    pending = uploads(30)
    known = {"u/000003.csv", "u/000004.csv"}
    limits = BatchLimits(batch_files=10, max_runs=3)
    plan = plan_batches(pending, None, limits=limits, known=lambda keys: known & set(keys))
    assert [(len(b.uploads), b.new) for b in plan.batches] == [(1, False), (1, False), (10, True)]
    # the new ones are one range: the known ones between them are not in it
    assert plan.batches[2].partitions == [f"u/{i:06d}.csv" for i in [0, 1, 2, *range(5, 12)]]
    follow = plan_batches(pending, plan.cursor, limits=limits, known=lambda keys: known & set(keys))
    assert [len(b.uploads) for b in follow.batches] == [10, 8]


def test_a_new_version_of_an_asked_upload_is_asked_for_again():
    pending = uploads(3)
    plan = plan_batches(pending, None, limits=BatchLimits(), known=nothing_known)
    pending["u/000001.csv"] = PendingUpload(
        "u/000001.csv", "other", 100, "2026-12-07T01:00:00+00:00"
    )
    again = plan_batches(pending, plan.cursor, limits=BatchLimits(), known=nothing_known)
    assert [b.partitions for b in again.batches] == [["u/000001.csv"]]


def test_uploads_left_in_landing_are_asked_for_again_after_the_retry_delay_unless_running():
    pending = uploads(4)
    limits = BatchLimits(retry_after_s=600)
    plan = plan_batches(pending, None, limits=limits, known=nothing_known, now=0)
    [batch] = plan.batches
    early = plan_batches(pending, plan.cursor, limits=limits, known=nothing_known, now=599)
    assert early.batches == []
    running = plan_batches(
        pending, plan.cursor, limits=limits, known=nothing_known, running=lambda b: True, now=601
    )
    assert running.batches == []
    late = plan_batches(
        pending, plan.cursor, limits=limits, known=nothing_known, running=lambda b: False, now=601
    )
    assert late.expired == [batch.id]
    assert [b.partitions for b in late.batches] == [batch.partitions]
    assert late.batches[0].run_key != batch.run_key or late.batches[0].id == batch.id


def test_an_older_or_broken_cursor_asks_for_each_pending_upload_once_more():
    pending = uploads(2)
    for cursor in ['{"u/000000.csv": "etag0@x"}', "not json", "[]"]:
        plan = plan_batches(pending, cursor, limits=BatchLimits(), known=nothing_known)
        assert [b.partitions for b in plan.batches] == [sorted(pending)]
        assert json.loads(plan.cursor)["v"] == 2


def test_a_new_contract_asks_again_at_once_for_uploads_left_in_landing():
    """#32: an upload that waited for the contract to be fixed runs again when it is."""
    pending = uploads(3)
    limits = BatchLimits(retry_after_s=900)
    plan = plan_batches(pending, None, limits=limits, known=nothing_known, now=0, contract="v1")
    same = plan_batches(
        pending, plan.cursor, limits=limits, known=nothing_known, now=10, contract="v1"
    )
    assert same.batches == []
    fixed = plan_batches(
        pending, plan.cursor, limits=limits, known=nothing_known, now=10, contract="v2"
    )
    assert [b.partitions for b in fixed.batches] == [sorted(pending)]
