"""`embedded/<dataset>`: vectors in LanceDB and Iceberg, checks, idempotent re-runs, search."""

from __future__ import annotations

import dagster as dg
import numpy as np
import polars as pl
import pytest

from data_platform.contracts.columns import SOURCE_KEY
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.embedding import VectorStore
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.runner import ingest_landing, materialize
from data_platform_tests.defs.helpers import put_bytes, put_upload, sample_contract, sample_rows

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = dg.AssetKey(["embedded", "reviews"])


def test_partitions_are_embedded_checked_and_searchable(defs, instance, settings, store):
    spec = sample_contract("reviews")
    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 120, seed=1))
    put_upload(
        store, settings, "reviews", "b.csv", sample_rows(spec.name, 80, seed=2, start_id=120)
    )
    ingest_landing(defs, instance, (spec,))
    for partition in ("a.csv", "b.csv", "a.csv"):  # a.csv twice: idempotent
        outcome = materialize(defs, instance, [KEY], label="embed", partition_key=partition)
        assert outcome.success, outcome.error
        assert outcome.checks == {"embedded/reviews": [3, 0, 0]}
    vectors = VectorStore.from_settings(settings)
    assert vectors.count("reviews") == 200
    assert vectors.count("reviews", where=f"{SOURCE_KEY} = 'a.csv'") == 120
    lake = Lakehouse(open_catalog(settings))
    table = pl.from_arrow(lake.read("embedded.reviews").data)
    assert table.height == 200
    matrix = np.array(table["vector"].to_list(), dtype=np.float32)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    hits = vectors.search("reviews", "a great kettle for my kitchen", k=5)
    assert hits.height == 5
    assert (hits["category"] == "kitchen").sum() >= 3
    kitchen_only = vectors.search("reviews", "fast charger", k=5, where="category = 'kitchen'")
    assert set(kitchen_only["category"]) == {"kitchen"}


def test_saved_searches_asset_keeps_top_hits(defs, instance, settings, store):
    for name in ("reviews", "tickets"):
        spec = sample_contract(name)
        put_upload(store, settings, name, "a.csv", sample_rows(spec.name, 60, seed=3))
        ingest_landing(defs, instance, (spec,))
        key = dg.AssetKey(["embedded", name])
        assert materialize(defs, instance, [key], label="embed", partition_key="a.csv").success
    searches = dg.AssetKey(["embedded", "saved_searches"])
    outcome = materialize(defs, instance, [searches], label="searches")
    assert outcome.success, outcome.error
    hits = pl.from_arrow(Lakehouse(open_catalog(settings)).read("embedded.saved_searches").data)
    assert set(hits["search"]) == {"broken_electronics", "kitchen_praise", "outages"}
    assert hits.filter(pl.col("search") == "outages")["rank"].to_list() == list(range(1, 11))
    for _, group in hits.group_by("search"):
        assert group.sort("rank")["score"].is_sorted(descending=True)  # best hit first


@pytest.mark.parametrize("below", ["1000", "0"], ids=["rewrite", "delete-files"])
def test_vectors_follow_an_upsert_and_a_delete(instance, settings, store, monkeypatch, below):
    """#29: a correction and a delete in a later upload take the earlier upload's rows out
    of its staged partition in the same commit (the partition rewritten, or, at a threshold
    of 0, given a position-delete file) and materialise it again, so `embedded` (which
    follows staged per partition) re-embeds it: the corrected text is found once, the
    deleted key never, and no vector is left for a row that is no longer current."""
    monkeypatch.setenv("DP_UPSERT_REWRITE_BELOW_ROWS", below)
    spec = sample_contract("reviews").model_copy(update={"mode": "upsert", "delete_marker": "_op"})
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
    first = sample_rows(spec.name, 40, seed=5)
    put_upload(store, settings, "reviews", "a.csv", first)
    assert all(o.success for o in ingest_landing(defs, instance, (spec,)))
    assert materialize(defs, instance, [KEY], label="embed", partition_key="a.csv").success
    corrected_id, deleted_id = first["review_id"][0], first["review_id"][1]
    text = "the kettle boils water in forty seconds and never leaks"
    correction = first.head(1).with_columns(pl.lit(text).alias("text"), pl.lit("U").alias("_op"))
    body = correction.write_csv() + f"{deleted_id},,,,,,,,D\n"
    put_bytes(store, settings, "reviews", "b.csv", body.encode())
    [done] = ingest_landing(defs, instance, (spec,))
    assert done.success, done.error
    table = Lakehouse(open_catalog(settings)).load("staged.reviews")
    deletes = sum(len(task.delete_files) for task in table.scan().plan_files())
    assert (deletes > 0) == (below == "0"), deletes  # the layout the threshold chose
    staged = dg.AssetKey(["staged", "reviews"])
    rewritten = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=staged, asset_partitions=["a.csv"]), limit=1
    ).records[0]
    assert rewritten.run_id == done.run_id  # the later upload's run materialised a.csv again
    for partition in ("a.csv", "b.csv"):  # what the automation runs for the two partitions
        assert materialize(defs, instance, [KEY], label="embed", partition_key=partition).success
    vectors = VectorStore.from_settings(settings)
    assert vectors.count("reviews") == 39  # 40, one deleted; the corrected one moved to b.csv
    assert vectors.count("reviews", where=f"review_id = '{deleted_id}'") == 0
    assert vectors.count("reviews", where=f"review_id = '{corrected_id}'") == 1
    [hit] = vectors.search("reviews", text, k=1)["review_id"].to_list()
    assert hit == corrected_id
