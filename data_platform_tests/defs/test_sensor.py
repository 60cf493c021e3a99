"""The landing sensor against a real bucket: pagination, batches, cursor, re-uploads, deletes.

A new upload is asked for once, in a batch of new uploads (one run over their range of
partitions); a re-upload, or an upload put back from quarantine, is a new version of a
known partition and runs again, on its own. The planner's bounds are tested without a
store in data_platform_tests/ingest/test_batches.py.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.storage import ObjectStore, StorageError
from data_platform_tests.defs.helpers import put_bytes

pytestmark = pytest.mark.integration


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    sensor = defs.resolve_sensor_def("reviews_landing_sensor")
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": defs.resources["store"]}
    ) as context:
        return sensor(context)


def requested(result: dg.SensorResult) -> list[str]:
    """Every partition the tick's runs cover: a run's own, or its range of the new ones."""
    added = [k for add in result.dynamic_partitions_requests for k in add.partition_keys]
    found = []
    for request in result.run_requests:
        if request.partition_key is not None:
            found.append(request.partition_key)
        else:
            span = request.partition_key_range
            found += added[added.index(span.start) : added.index(span.end) + 1]
    return found


def asked(cursor: str) -> int:
    """Uploads the cursor holds as asked for (11 characters each)."""
    return sum(len(digests) // 11 for _, _, digests in json.loads(cursor)["asked"])


def test_sensor_requests_partitions_and_runs_with_etag_run_keys(defs, instance, settings, store):
    info = put_bytes(store, settings, "reviews", "2026/a.csv", b"review_id\n1\n")
    result = _tick(defs, instance, None)
    [request] = result.run_requests
    assert request.partition_key == "2026/a.csv"
    version = f"{info.etag}@{info.last_modified.isoformat()}"
    assert request.run_key == f"2026/a.csv@{version}"
    [add] = result.dynamic_partitions_requests
    assert add.partitions_def_name == "reviews_uploads"
    assert list(add.partition_keys) == ["2026/a.csv"]
    assert asked(result.cursor) == 1
    skipped = _tick(defs, instance, result.cursor)
    assert isinstance(skipped, dg.SkipReason)
    assert "1 upload(s) pending, 1 being ingested" in skipped.skip_message


def test_sensor_lists_past_one_page_and_survives_deleted_objects(defs, instance, settings):
    store = ObjectStore.from_settings(settings)
    names = [f"many/{i:04d}.csv" for i in range(1050)]  # more than one 1000-key page
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: put_bytes(store, settings, "reviews", n, b"a\n1\n"), names))
    first = _tick(defs, instance, None)
    assert sorted(requested(first)) == names
    # batches of at most 500 new uploads (DP_INGEST_BATCH_FILES), each one run over a range
    assert sorted(int(r.tags["data_platform/uploads"]) for r in first.run_requests) == [
        50,
        500,
        500,
    ]
    for add in first.dynamic_partitions_requests:  # what the daemon does with the result
        instance.add_dynamic_partitions(add.partitions_def_name, add.partition_keys)
    store.delete(f"{settings.landing_prefix}reviews/{names[0]}")
    store.delete(f"{settings.landing_prefix}reviews/{names[1]}")
    after_delete = _tick(defs, instance, first.cursor)
    assert isinstance(after_delete, dg.SkipReason)
    changed = put_bytes(store, settings, "reviews", names[5], b"a\n2\n")
    third = _tick(defs, instance, first.cursor)
    [rerun] = third.run_requests
    assert rerun.run_key.startswith(f"{names[5]}@{changed.etag}@")
    assert rerun.partition_key == names[5]  # a known partition: a run of its own
    assert asked(third.cursor) == 1048
    assert third.dynamic_partitions_requests == []  # the partition exists: only a run


def test_uploads_in_folders_that_sort_before_a_sibling_are_found(defs, instance, settings, store):
    """SeaweedFS lists `2026-11/` before `2026-11-b/`: no upload may be skipped for it."""
    names = ["2026-11/a.csv", "2026-11-b/b.csv", "2026-11.1/c.csv", "2026-11/z.csv", "a b/d.csv"]
    for name in names:
        put_bytes(store, settings, "reviews", name, b"review_id\n1\n")
    result = _tick(defs, instance, None)
    assert sorted(requested(result)) == sorted(names)


def test_the_cursor_holds_only_uploads_still_in_landing(defs, instance, settings, store):
    """Ingested uploads leave landing, so the cursor (and a tick's listing) stays small."""
    for i in range(5):
        put_bytes(store, settings, "reviews", f"p/{i}.csv", b"review_id\n1\n")
    first = _tick(defs, instance, None)
    assert asked(first.cursor) == 5
    for i in range(4):  # what ingestion does: archive (or quarantine) moves them out
        store.move(f"{settings.landing_prefix}reviews/p/{i}.csv", f"archive/reviews/p/{i}.csv")
    after = _tick(defs, instance, first.cursor)
    assert isinstance(after, dg.SkipReason)
    put_bytes(store, settings, "reviews", "p/new.csv", b"review_id\n2\n")
    found = _tick(defs, instance, first.cursor)
    assert requested(found) == ["p/new.csv"]
    assert asked(found.cursor) == 2


def test_a_listing_that_fails_fails_the_tick_and_keeps_the_cursor(instance, own_stack):
    """A dead store is an error, never an empty landing: the tick raises (Dagster shows it
    failed), the cursor stays where it was, and the next tick finds what was waiting."""
    stack, settings = own_stack
    store = ObjectStore.from_settings(settings)
    defs = build_definitions(SettingsResource.from_settings(settings))
    put_bytes(store, settings, "reviews", "first.csv", b"review_id\n1\n")
    first = _tick(defs, instance, None)
    put_bytes(store, settings, "reviews", "waiting.csv", b"review_id\n2\n")
    stack.down()  # the store dies (stopped by its PID) with an upload waiting
    sensor = defs.resolve_sensor_def("reviews_landing_sensor")
    with dg.build_sensor_context(
        instance=instance, cursor=first.cursor, resources={"store": defs.resources["store"]}
    ) as context:
        with pytest.raises(StorageError, match="landing/reviews/") as raised:
            sensor(context)
        assert context.cursor == first.cursor  # not advanced: the next tick lists again
    assert "list failed" in str(raised.value)
    stack.up()  # back on its ports
    retried = _tick(defs, instance, first.cursor)
    assert requested(retried) == ["waiting.csv"]


def test_a_missing_bucket_fails_the_tick(instance, settings):
    unreachable = settings.model_copy(update={"bucket": "no-such-bucket-here"})
    defs = build_definitions(SettingsResource.from_settings(unreachable))
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        _tick(defs, instance, "{}")


def test_the_sensor_interval_is_a_setting(settings, monkeypatch):
    """`DP_LANDING_SENSOR_INTERVAL_S` sets how often the daemon's landing sensor looks."""

    def interval() -> int | None:
        defs = build_definitions(SettingsResource.from_settings(settings))
        return defs.resolve_sensor_def("reviews_landing_sensor").minimum_interval_seconds

    monkeypatch.delenv("DP_LANDING_SENSOR_INTERVAL_S", raising=False)
    assert interval() == 15
    monkeypatch.setenv("DP_LANDING_SENSOR_INTERVAL_S", "4")
    assert interval() == 4
