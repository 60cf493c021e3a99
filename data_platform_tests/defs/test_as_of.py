"""Reproducing a past result: layers read their inputs as of a tag or snapshot id."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = pytest.mark.integration


def test_staged_reads_raw_as_of_a_tag_after_new_uploads(defs, instance, settings, store):
    spec = sample_contract("reviews")
    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 30, seed=1))
    ingest_landing(defs, instance, (spec,))
    lake = Lakehouse(open_catalog(settings))
    tagged = lake.tag("release-1")
    # every table of the lake, the uploads' profiles too (a drift reference by tag)
    assert set(tagged) == {
        "raw.reviews", "staged.reviews", "transformed.reviews", "profiles.reviews"
    }  # fmt: skip
    assert lake.tag("release-1") == tagged  # re-tagging the same state is harmless

    put_upload(store, settings, "reviews", "a.csv", sample_rows(spec.name, 45, seed=2))
    job = defs.resolve_job_def("ingest_reviews")
    raw_only = [dg.AssetKey(["raw", "reviews"])]
    assert job.execute_in_process(
        partition_key="a.csv", instance=instance, asset_selection=raw_only
    ).success
    assert lake.count("raw.reviews") == 45

    as_of = {"ops": {"ingest__reviews": {"config": {"as_of": "release-1"}}}}
    old = job.execute_in_process(
        partition_key="a.csv",
        instance=instance,
        run_config=as_of,
        asset_selection=[dg.AssetKey(["staged", "reviews"])],
    )
    assert old.success
    staged = pl.from_arrow(lake.read("staged.reviews").data)
    assert staged.height == 30  # the tagged raw rows, not the 45 uploaded since
    event = instance.get_latest_materialization_event(dg.AssetKey(["staged", "reviews"]))
    inputs = event.asset_materialization.metadata["input_snapshots"].value
    assert inputs == {"raw.reviews": str(tagged["raw.reviews"])}


def test_unknown_as_of_names_the_table_and_ref(defs, instance, settings, store):
    put_upload(store, settings, "reviews", "a.csv", sample_rows("reviews", 5))
    ingest_landing(defs, instance, (sample_contract("reviews"),))
    with pytest.raises(LookupError, match="raw.reviews has no snapshot or tag 'nope'"):
        Lakehouse(open_catalog(settings)).resolve_snapshot("raw.reviews", "nope")
