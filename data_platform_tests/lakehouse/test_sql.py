"""SQL over the lake: DuckDB on two layers, and as of a tag, with real tables."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from data_platform.defs.resources import LakehouseResource, SettingsResource
from data_platform.defs.resources.sql import LakeSQLResource
from data_platform.lakehouse import Lakehouse, open_catalog, sql
from data_platform.ops.cli.main import app
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows

pytestmark = pytest.mark.integration
REVIEWS = (sample_contract("reviews"),)


def test_sql_joins_two_layers_and_reads_as_of_a_tag(defs, instance, settings, store):
    put_upload(store, settings, "reviews", "a.csv", sample_rows("reviews", 40, seed=1))
    assert all(o.success for o in ingest_landing(defs, instance, REVIEWS))
    lake = Lakehouse(open_catalog(settings))
    lake.tag("before")
    put_upload(store, settings, "reviews", "b.csv", sample_rows("reviews", 25, seed=2, start_id=40))
    assert all(o.success for o in ingest_landing(defs, instance, REVIEWS))

    joined = """select count(*) as n from staged.reviews s
                join transformed.reviews t using (review_id) where t.text_length > 0"""
    assert sql.query(duckdb.connect(), lake, joined)["n"].to_list() == [65]
    assert sql.query(duckdb.connect(), lake, joined, as_of="before")["n"].to_list() == [40]
    assert sql.tables_named(joined, lake) == ["staged.reviews", "transformed.reviews"]

    resource = LakeSQLResource(
        lakehouse=LakehouseResource(platform=SettingsResource.from_settings(settings))
    )

    @dg.asset
    def review_counts(lake_sql: LakeSQLResource) -> dg.MaterializeResult:
        frame = lake_sql.query("select category, count(*) n from staged.reviews group by 1")
        return dg.MaterializeResult(metadata={"total": int(frame["n"].sum())})

    result = dg.materialize([review_counts], resources={"lake_sql": resource})
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["total"].value == 65


def test_sql_command_prints_rows(monkeypatch, settings, defs, instance, store):
    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    put_upload(store, settings, "reviews", "a.csv", sample_rows("reviews", 12, seed=1))
    assert all(o.success for o in ingest_landing(defs, instance, REVIEWS))
    done = CliRunner().invoke(app, ["sql", "select count(*) as rows from raw.reviews"])
    assert done.exit_code == 0, done.output
    assert "12" in done.output
    bad = CliRunner().invoke(app, ["sql", "select * from staged.reviews", "--as-of", "nope"])
    assert bad.exit_code == 1
    assert "no snapshot or tag 'nope'" in bad.output
