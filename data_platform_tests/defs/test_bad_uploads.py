"""A bad upload fails its check, lands in quarantine with its bytes, and blocks nothing else."""

from __future__ import annotations

import io
import json

import dagster as dg
import polars as pl
import pytest

from data_platform.defs.ingest.assets import RETRY
from data_platform.ingest.landing import Custody
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_bytes, put_upload, sample_contract, sample_rows

pytestmark = pytest.mark.integration
REVIEWS = (sample_contract("reviews"),)


def _good_csv() -> bytes:
    return encode(sample_rows("reviews", 20, seed=9, start_id=1000), "x.csv")


def _bad_value() -> bytes:
    lines = _good_csv().decode().splitlines()
    fields = lines[4].split(",")
    fields[4] = "cheap"  # price of data row 4
    lines[4] = ",".join(fields)
    return "\n".join(lines).encode()


def _wrong_columns() -> bytes:
    return _good_csv().replace(b"helpful_votes", b"votes", 1)


def _latin1() -> bytes:
    return _good_csv().decode().replace("The ", "Th\u00e9 ", 1).encode("latin-1")


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("bad-value.csv", _bad_value, ["row 4", "column 'price'", "'cheap'"]),
        ("wrong-columns.csv", _wrong_columns, ["column 'helpful_votes'", "missing column"]),
        ("empty.csv", lambda: b"", ["the file is empty"]),
        ("latin1.csv", _latin1, ["not UTF-8", "column 'text'", "row "]),
        ("notes.txt", lambda: b"hello", ["unsupported file type '.txt'"]),
    ],
)
def test_bad_upload_is_quarantined_with_a_clear_message(
    defs, instance, settings, store, name, make, expected
):
    data = make()
    put_upload(store, settings, "reviews", "good.csv", sample_rows("reviews", 30))
    put_bytes(store, settings, "reviews", name, data)
    outcomes = {o.partition: o for o in ingest_landing(defs, instance, REVIEWS)}
    assert outcomes["good.csv"].success
    bad = outcomes[name]
    assert not bad.success
    assert f"landing/reviews/{name}" in bad.error
    for fragment in expected:
        assert fragment in bad.error, bad.error
    [entry] = Custody(store, settings).quarantined("reviews")
    assert entry.partition == name
    assert entry.key.startswith(f"{settings.quarantine_prefix}reviews/")
    assert entry.key.endswith(f"/{name}")
    assert store.get_bytes(entry.key) == data  # the raw bytes are never lost
    report = json.loads(store.get_bytes(entry.key + ".error.json"))
    assert report["source"].endswith(f"landing/reviews/{name}")
    assert all(fragment in report["error"] for fragment in expected)
    assert not store.exists(f"{settings.landing_prefix}reviews/{name}")
    lake = Lakehouse(open_catalog(settings))
    staged = pl.from_arrow(lake.read("staged.reviews").data)
    assert set(staged["_source_key"]) == {"good.csv"}  # the bad partition was not published
    assert lake.count("transformed.reviews") == 30
    assert ingest_landing(defs, instance, REVIEWS) == []  # quarantine is not re-ingested


def test_failing_check_is_recorded_and_blocks_downstream(defs, instance, settings, store):
    put_bytes(store, settings, "reviews", "bad.csv", _bad_value())
    [outcome] = ingest_landing(defs, instance, REVIEWS)
    assert outcome.checks_failed == 1
    assert outcome.checks_passed == 0
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["staged", "reviews"]), "schema_valid")]
    )
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert not evaluation.passed
    assert "row 4, column 'price'" in evaluation.description
    assert (
        instance.get_latest_materialization_event(dg.AssetKey(["transformed", "reviews"])) is None
    )


def test_fixed_reupload_after_quarantine_is_ingested(defs, instance, settings, store):
    put_bytes(store, settings, "reviews", "fix-me.csv", _bad_value())
    assert not ingest_landing(defs, instance, REVIEWS)[0].success
    put_bytes(store, settings, "reviews", "fix-me.csv", _good_csv())
    [again] = ingest_landing(defs, instance, REVIEWS)
    assert again.success
    assert Lakehouse(open_catalog(settings)).count("transformed.reviews") == 20


def test_every_quarantined_version_is_kept(defs, instance, settings, store):
    """Two bad uploads to one key: both versions and both reports stay in quarantine."""
    first = put_bytes(store, settings, "reviews", "again.csv", _bad_value())
    assert not ingest_landing(defs, instance, REVIEWS)[0].success
    second = put_bytes(store, settings, "reviews", "again.csv", _wrong_columns())
    assert not ingest_landing(defs, instance, REVIEWS)[0].success
    entries = Custody(store, settings).quarantined("reviews")
    assert [e.etag for e in entries] == [first.etag, second.etag]
    assert [store.get_bytes(e.key) for e in entries] == [_bad_value(), _wrong_columns()]
    assert "price" in entries[0].error
    assert "helpful_votes" in entries[1].error


def test_quarantine_takes_only_the_failing_version(settings, store):
    """A fixed file uploaded while the bad one's run was deciding stays in landing."""
    bad = put_bytes(store, settings, "reviews", "race.csv", _bad_value())
    fixed = put_bytes(store, settings, "reviews", "race.csv", _good_csv())
    custody = Custody(store, settings)
    landing = custody.landing_key("reviews", "race.csv")
    moved = custody.quarantine("reviews", "race.csv", landing, bad.etag, {"error": "bad"})
    assert moved.key is None
    assert "newer upload" in moved.note
    assert store.stat(landing).etag == fixed.etag  # the fix is left for its own run
    assert custody.quarantined("reviews") == []


def test_an_upload_that_does_not_match_its_checksum_commits_nothing(
    quick_retry_defs, instance, settings, store
):
    """The checksum is checked while the bytes are parsed, and before anything is committed;
    every retry of the step reads the bytes again and fails again (short delays between)."""
    data = _good_csv()
    key = f"{settings.landing_prefix}reviews/corrupt.csv"
    # bytes written behind the client's back, with a checksum that is not theirs
    store.client.put_object(
        store.bucket, key, io.BytesIO(data), len(data), metadata={"sha256": "0" * 64}
    )
    [outcome] = ingest_landing(quick_retry_defs, instance, REVIEWS)
    assert not outcome.success  # after the step's retries: a bad read may be passing
    [run] = instance.get_runs(limit=1)
    events = instance.all_logs(run.run_id)
    assert any("checksum mismatch" in str(event) for event in events)
    retried = [e for e in events if e.dagster_event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retried) == RETRY.max_retries  # every retry the step's policy allows was made
    lake = Lakehouse(open_catalog(settings))
    for layer in ("raw", "staged", "transformed"):
        assert lake.count(f"{layer}.reviews") == 0
    assert store.exists(key)  # still in landing, for the next run
