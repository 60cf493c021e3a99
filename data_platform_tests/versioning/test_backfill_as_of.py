"""A backfill "as of a release" through the real daemon, and the lineage it leaves behind."""

from __future__ import annotations

import dagster as dg
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.lineage import sources, trace
from data_platform.ops.stack.process import wait_until
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# the mutation docs/reproducibility.md shows, as one curl command
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL_STATUS = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } ... on PythonError { message } } }"""


def as_of_backfill(dataset: str, tag: str, partitions: list[str]) -> dict:
    """Backfill params: staged and transformed re-read their inputs as of `tag`."""
    ops = {f"ingest__{dataset}": {"config": {"as_of": tag}}}
    return {
        "assetSelection": [{"path": [layer, dataset]} for layer in ("staged", "transformed")],
        "partitionNames": partitions,
        "title": f"{dataset} as of {tag}",
        "runConfigData": {"ops": ops},
    }


def test_backfill_as_of_a_tag_restores_the_tagged_rows(dagster_dev):
    settings = dagster_dev.settings
    store, spec = ObjectStore.from_settings(settings), sample_contract("reviews")
    lake = Lakehouse(open_catalog(settings))
    first = put_upload(store, settings, "reviews", "asof/a.csv", sample_rows(spec.name, 40, seed=1))
    wait_until(
        lambda: lake.count("transformed.reviews") == 40, timeout=180, interval=0.5, what="ingest"
    )
    tagged = lake.tag("release-1")
    put_upload(
        store, settings, "reviews", "asof/a.csv", sample_rows(spec.name, 25, seed=2)
    )  # re-upload
    wait_until(
        lambda: lake.count("transformed.reviews") == 25, timeout=180, interval=0.5, what="re-ingest"
    )

    params = as_of_backfill("reviews", "release-1", ["asof/a.csv"])
    launched = dagster_dev.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def completed() -> bool:
        status = dagster_dev.graphql(BACKFILL_STATUS, {"id": launched["backfillId"]})
        state = status["partitionBackfillOrError"]["status"]
        assert state not in {"FAILED", "CANCELED", "COMPLETED_FAILED"}, state
        return state in {"COMPLETED", "COMPLETED_SUCCESS"}

    wait_until(completed, timeout=300, interval=1, what="backfill completed")
    assert lake.count("transformed.reviews") == 40  # the release's rows again
    assert lake.count("raw.reviews") == 25  # raw was not backfilled: it holds the new upload

    with dg.DagsterInstance.from_config(str(dagster_dev.home)) as instance:
        root = trace(instance, dg.AssetKey(["transformed", "reviews"]), "asof/a.csv")
    staged = root.inputs[0]
    assert staged.inputs[0].snapshot_id == str(tagged["raw.reviews"])
    (raw,) = sources(root)
    assert raw.source_etag == first.etag  # lineage names the upload the release was built from
