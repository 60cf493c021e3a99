"""Uploads flow through the sensor into raw, staged and transformed, idempotently."""

from __future__ import annotations

import dagster as dg
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import (
    SAMPLE_DATASETS,
    put_upload,
    sample_contract,
    sample_rows,
)

pytestmark = pytest.mark.integration
REVIEWS = (sample_contract("reviews"),)


def _latest(instance: dg.DagsterInstance, layer: str, partition: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey([layer, "reviews"]))
    assert event is not None
    assert event.asset_materialization.partition == partition
    return event.asset_materialization.metadata


def test_upload_is_ingested_through_every_layer(defs, instance, settings, store, lakehouse):
    frame = sample_rows("reviews", 300, seed=1)
    uploaded = put_upload(store, settings, "reviews", "day-1/a.csv", frame)
    outcomes = ingest_landing(defs, instance, REVIEWS)
    assert [(o.partition, o.success, o.checks_passed) for o in outcomes] == [
        ("day-1/a.csv", True, 2)  # schema_valid, and drift (nothing to compare with yet)
    ]
    assert 0 < outcomes[0].seconds < 120  # the demo prints each run's time
    for layer in ("raw", "staged", "transformed"):
        assert lakehouse.count(f"{layer}.reviews") == 300
    raw_meta = _latest(instance, "raw", "day-1/a.csv")
    staged_meta = _latest(instance, "staged", "day-1/a.csv")
    raw_snapshot = raw_meta["snapshot_id"].value
    assert raw_snapshot == str(lakehouse.snapshot_id("raw.reviews"))
    assert staged_meta["input_snapshots"].value == {"raw.reviews": raw_snapshot}
    assert staged_meta["dagster/row_count"].value == 300
    assert "| review_id |" in staged_meta["preview"].value
    # the upload left landing for the archive, bytes unchanged; raw records where it was
    assert not store.exists(f"{settings.landing_prefix}reviews/day-1/a.csv")
    archived = store.get_bytes(f"{settings.archive_prefix}reviews/day-1/a.csv")
    assert archived == encode(frame, "a.csv")
    assert raw_meta["source_etag"].value == uploaded.etag


def test_rematerialising_a_partition_leaves_the_same_rows(defs, instance, settings, store):
    put_upload(store, settings, "reviews", "a.parquet", sample_rows("reviews", 200))
    ingest_landing(defs, instance, REVIEWS)
    lake = Lakehouse(open_catalog(settings))
    before = lake.read("transformed.reviews").data.sort_by("review_id")
    job = defs.resolve_job_def("ingest_reviews")
    assert job.execute_in_process(partition_key="a.parquet", instance=instance).success
    after = lake.read("transformed.reviews").data.sort_by("review_id")
    assert after.num_rows == 200
    assert after.equals(before)
    assert lake.count("raw.reviews") == 200


def test_reupload_reruns_only_that_partition(defs, instance, settings, store):
    spec = sample_contract("reviews")
    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 100, seed=1))
    put_upload(
        store, settings, "reviews", "b.jsonl", sample_rows(spec.name, 50, seed=2, start_id=100)
    )
    assert len(ingest_landing(defs, instance, REVIEWS)) == 2
    assert ingest_landing(defs, instance, REVIEWS) == []  # nothing new: no runs
    put_upload(
        store, settings, "reviews", "b.jsonl", sample_rows(spec.name, 70, seed=3, start_id=100)
    )
    rerun = ingest_landing(defs, instance, REVIEWS)
    assert [(o.partition, o.success) for o in rerun] == [("b.jsonl", True)]
    lake = Lakehouse(open_catalog(settings))
    assert lake.count("staged.reviews") == 170


def test_two_datasets_ingest_side_by_side(defs, instance, settings, store):
    for spec in SAMPLE_DATASETS:
        put_upload(store, settings, spec.name, "first.csv", sample_rows(spec.name, 40, seed=5))
    outcomes = ingest_landing(defs, instance, SAMPLE_DATASETS)
    assert sorted((o.dataset, o.success) for o in outcomes) == [
        ("reviews", True),
        ("tickets", True),
    ]
    lake = Lakehouse(open_catalog(settings))
    assert lake.count("transformed.tickets") == 40
    assert "reply_minutes" in lake.read("transformed.tickets").data.column_names


@pytest.mark.postgres
def test_ingest_with_catalog_on_postgresql(pg_settings, instance, store):
    from data_platform.definitions import build_definitions
    from data_platform.defs.resources import SettingsResource

    defs = build_definitions(SettingsResource.from_settings(pg_settings))
    put_upload(store, pg_settings, "reviews", "pg.csv", sample_rows("reviews", 80))
    assert all(o.success for o in ingest_landing(defs, instance, REVIEWS))
    lake = Lakehouse(open_catalog(pg_settings))
    assert lake.count("transformed.reviews") == 80
    assert "postgresql" in pg_settings.catalog_url
