"""Lineage: from a transformed partition back to the landing object and its ETag."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.lineage import parse_asset_key, sources, trace
from data_platform.ops.cli.lineage import lineage
from data_platform.ops.runner import ingest_landing, materialize
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = pytest.mark.integration

TRANSFORMED = dg.AssetKey(["transformed", "reviews"])


@pytest.fixture
def ingested(defs, instance, settings, store):
    """Two uploads ingested through raw, staged and transformed, one after the other (two
    runs: uploads that land together are one batch, one snapshot)."""
    spec = sample_contract("reviews")
    uploads = {}
    for name, rows in (("a.csv", 20), ("b.csv", 10)):
        rows_of = sample_rows(spec.name, rows, seed=rows, start_id=100 * rows)
        uploads[name] = put_upload(store, settings, "reviews", name, rows_of)
        [outcome] = ingest_landing(defs, instance, (spec,))
        assert outcome.success, outcome.error
    return uploads


def test_chain_of_three_layers_ends_at_the_landing_object(ingested, defs, instance, settings):
    lake = Lakehouse(open_catalog(settings))
    root = trace(instance, TRANSFORMED, "a.csv")
    assert root is not None
    chain = list(root.walk())
    assert [n.name for n in chain] == ["transformed/reviews", "staged/reviews", "raw/reviews"]
    assert {n.partition for n in chain} == {"a.csv"}
    assert all(n.run_id and n.snapshot_id and n.note is None for n in chain)
    # the snapshots named are real snapshots of the tables they name
    for node in chain:
        assert lake.load(node.table).snapshot_by_id(int(node.snapshot_id)) is not None
    (raw,) = sources(root)
    upload = ingested["a.csv"]
    assert raw.source_object == f"s3://{settings.bucket}/{upload.key}"
    assert raw.source_etag == upload.etag

    # the command prints the same chain ($DAGSTER_HOME is the test instance's)
    app = typer.Typer()
    app.command()(lineage)
    printed = CliRunner().invoke(
        app, ["transformed/reviews", "-p", "b.csv"], env={"COLUMNS": "300"}
    )
    assert printed.exit_code == 0, printed.output
    b = ingested["b.csv"]
    for text in ("transformed/reviews", "staged/reviews", "raw/reviews", b.key, b.etag):
        assert text in printed.output
    missing = CliRunner().invoke(app, ["transformed/reviews", "--partition", "nope.csv"])
    assert missing.exit_code == 1

    # a partition read at a later commit of its input still resolves to its own writer:
    # re-run transformed for a.csv alone; it reads staged at the snapshot b.csv's run committed
    job = defs.resolve_job_def("ingest_reviews")
    assert job.execute_in_process(
        partition_key="a.csv", instance=instance, asset_selection=[TRANSFORMED]
    ).success
    root = trace(instance, TRANSFORMED, "a.csv")
    (staged,) = root.inputs
    assert staged.partition == "a.csv"
    assert staged.read_snapshot_id is not None  # the table snapshot read (b.csv's commit)
    assert staged.read_snapshot_id != staged.snapshot_id  # a.csv's rows were written earlier
    b_staged = trace(instance, dg.AssetKey(["staged", "reviews"]), "b.csv")
    assert staged.read_snapshot_id == b_staged.snapshot_id
    assert sources(root)[0].source_etag == ingested["a.csv"].etag


def test_asset_key_parsing():
    assert parse_asset_key("transformed.reviews") == TRANSFORMED
    assert parse_asset_key("/transformed/reviews") == TRANSFORMED
    with pytest.raises(ValueError, match="not an asset key"):
        parse_asset_key("/")


def test_lineage_of_a_whole_table_read_names_every_upload(defs, instance, settings, store):
    """#32: `lineage inference/reviews` named one chain down to one landing object, while
    the transformed snapshot it read held the rows of every upload. It now lists each
    upload in that snapshot with its ETag, checked against raw's distinct key and ETag."""
    spec = sample_contract("reviews")
    for i in range(5):
        frame = sample_rows(spec.name, 30, seed=i, start_id=1000 * i)
        put_upload(store, settings, "reviews", f"many/{i}.csv", frame)
    assert all(o.success for o in ingest_landing(defs, instance, (spec,)))
    inference = dg.AssetKey(["inference", "reviews"])
    assert materialize(defs, instance, [inference], label="inference").success
    app = typer.Typer()
    app.command()(lineage)
    env = {**settings.as_env(), "COLUMNS": "300"}  # the CLI reads the lake of the settings
    printed = CliRunner().invoke(app, ["inference/reviews", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    document = json.loads(printed.output)
    [read] = document["reads"]
    assert read["table"] == "transformed.reviews"
    named = {(u["key"], u["etag"]) for u in read["uploads"]}
    raw = pl.from_arrow(Lakehouse(open_catalog(settings)).read("raw.reviews").data)
    assert isinstance(raw, pl.DataFrame)
    expected = set(raw.select("_source_key", "_source_etag").unique().iter_rows())
    assert named == expected
    assert len(named) == 5
    assert sum(u["rows"] for u in read["uploads"]) == 150
    text = CliRunner().invoke(app, ["inference/reviews"], env=env)
    first = text.output.splitlines()[0]
    assert "read transformed.reviews" in first
    assert "5 upload(s), 150 rows" in first
