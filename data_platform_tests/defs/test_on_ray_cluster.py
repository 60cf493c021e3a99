"""`embedded/<dataset>` and `inference/<dataset>` with `executor: ray` on the 3-node cluster."""

from __future__ import annotations

import dagster as dg
import numpy as np
import polars as pl
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.runner import ingest_landing
from data_platform.ray.driver import ray_driver
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = [pytest.mark.cluster, pytest.mark.integration]
EMBEDDED = dg.AssetKey(["embedded", "reviews"])
INFERENCE = dg.AssetKey(["inference", "reviews"])


def _run(defs, instance, key: dg.AssetKey, config: dict, partition: str | None = None):
    job = defs.resolve_implicit_global_asset_job_def()
    op = "__".join(key.path)
    result = job.execute_in_process(
        instance=instance,
        asset_selection=[key],
        partition_key=partition,
        run_config={"ops": {op: {"config": config}}},
    )
    assert result.success
    return instance.get_latest_materialization_event(key).asset_materialization


def test_assets_on_the_cluster_give_the_single_process_results(
    defs, instance, settings, store, ray_cluster, monkeypatch
):
    # the fixture's cluster is not the platform's own (`cluster up`): its token comes from
    # the environment, as an external cluster's does
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", ray_cluster.token_file)
    spec = sample_contract("reviews")
    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 120, seed=1))
    ingest_landing(defs, instance, (spec,))
    lake = Lakehouse(open_catalog(settings))
    on_cluster = {"executor": "ray", "ray_address": ray_cluster.address}

    def vectors() -> np.ndarray:
        table = pl.from_arrow(lake.read("embedded.reviews").data).sort("review_id")
        return np.array(table["vector"].to_list(), dtype=np.float32)

    _run(defs, instance, EMBEDDED, {"executor": "single"}, "a.csv")
    single = vectors()
    event = _run(defs, instance, EMBEDDED, {**on_cluster, "ray_actors": 2}, "a.csv")
    assert np.allclose(vectors(), single, atol=1e-5)
    assert event.metadata["executor"].value.startswith("ray: 2 actors on 2 node(s)")

    def predictions() -> pl.DataFrame:
        return pl.from_arrow(lake.read("inference.reviews").data).sort("review_id")

    _run(defs, instance, INFERENCE, {"executor": "single"})
    expected = predictions()
    event = _run(defs, instance, INFERENCE, {**on_cluster, "workers": 3, "chunk_size": 20})
    got = predictions()
    assert got["predicted_label"].equals(expected["predicted_label"])
    assert np.allclose(got["confidence"].to_numpy(), expected["confidence"].to_numpy())
    # the nodes that computed batches, as Ray names them: more than one of the cluster's
    ran = event.metadata["ray_nodes"].value
    assert len(set(ran)) >= 2, f"predictions ran on {ran} only"
    assert set(ran) <= _node_ids(ray_cluster), ran
    assert event.metadata["executor"].value.startswith(f"ray: 3 actors on {len(ran)} node(s)")


def _node_ids(cluster) -> set[str]:
    """The ids of the cluster's live nodes, asked of Ray itself."""
    with ray_driver(cluster.address, cluster.token_file) as ray:
        return {node["NodeID"] for node in ray.nodes() if node["Alive"]}
