"""The real daemon: an upload is ingested within a sensor interval; backfills complete."""

from __future__ import annotations

import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.stack.process import wait_until
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_upload, sample_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL_STATUS = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } ... on PythonError { message } } }"""


def test_upload_is_ingested_by_the_daemon_then_backfilled(dagster_dev):
    settings = dagster_dev.settings
    store = ObjectStore.from_settings(settings)
    put_upload(store, settings, "reviews", "daemon/a.csv", sample_rows("reviews", 50))
    lake = Lakehouse(open_catalog(settings))
    wait_until(
        lambda: lake.count("transformed.reviews") == 50,
        timeout=180,
        interval=0.5,
        what="sensor run ingested the upload",
    )
    put_upload(
        store, settings, "reviews", "daemon/b.csv", sample_rows("reviews", 5, start_id=10_000)
    )
    wait_until(
        lambda: lake.count("transformed.reviews") == 55,
        timeout=180,
        interval=0.5,
        what="second upload ingested",
    )
    layers = [{"path": [layer, "reviews"]} for layer in ("raw", "staged", "transformed")]
    launched = dagster_dev.graphql(
        LAUNCH_BACKFILL,
        {"params": {"assetSelection": layers, "allPartitions": True, "title": "test backfill"}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def completed() -> bool:
        status = dagster_dev.graphql(BACKFILL_STATUS, {"id": launched["backfillId"]})
        state = status["partitionBackfillOrError"]["status"]
        assert state not in {"FAILED", "CANCELED"}, state
        return state == "COMPLETED_SUCCESS" or state == "COMPLETED"

    wait_until(completed, timeout=300, interval=1, what="backfill completed")
    assert lake.count("transformed.reviews") == 55  # idempotent: same rows after the backfill
