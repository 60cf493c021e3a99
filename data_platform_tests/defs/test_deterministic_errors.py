"""A deterministic error fails the ingest step once; only a transient one is retried.

Issue #32: a contract changed from integer to float met raw's integer column, and the
run retried the schema error three times (`Exceeded max_retries of 3`) before failing;
nothing about the data or the catalog could change in between. The step's retry policy is
for transient failures (connection errors, 5xx, commit conflicts).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from typer.testing import CliRunner

from data_platform.contracts import parse_contract
from data_platform.definitions import build_definitions
from data_platform.defs.ingest import assets as ingest_assets
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.evolution import contract_changes, migration_advice
from data_platform.ingest.landing import Custody
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.cli.datasets import datasets_app
from data_platform.ops.demo.samples import encode
from data_platform.ops.migrate import migrate_dataset
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_bytes
from data_platform_tests.fixtures.dagster import quick_retries

pytestmark = pytest.mark.integration

FLIGHTS = """name: flights
version: {version}
key: [flight_id]
columns:
  flight_id: {{type: integer}}
  distance: {{type: {distance}}}
"""


def _flights(version: int, distance: str):
    return parse_contract(FLIGHTS.format(version=version, distance=distance), "flights.yaml")


def _publish_v1(settings, store, instance) -> None:
    """flights v1 (distance an integer) with one upload of two rows, published."""
    first = pl.DataFrame({"flight_id": [1, 2], "distance": [100, 200]})
    put_bytes(store, settings, "flights", "a.csv", encode(first, "a.csv"))
    v1 = _flights(1, "integer")
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[v1])
    outcomes = ingest_landing(defs, instance, [v1])
    assert outcomes
    assert all(o.success for o in outcomes), [o.error for o in outcomes]


def test_a_schema_error_is_not_retried(settings, store, instance, monkeypatch):
    monkeypatch.setattr(ingest_assets, "RETRY", quick_retries(ingest_assets.RETRY))
    platform = SettingsResource.from_settings(settings)
    first = pl.DataFrame({"flight_id": [1, 2], "distance": [100, 200]})
    put_bytes(store, settings, "flights", "a.csv", encode(first, "a.csv"))
    v1 = _flights(1, "integer")
    [ok] = ingest_landing(build_definitions(platform, contracts=[v1]), instance, [v1])
    assert ok.success, ok.error

    v2 = _flights(2, "float")  # the source now sends decimals
    second = pl.DataFrame({"flight_id": [3], "distance": [150.5]})
    put_bytes(store, settings, "flights", "b.csv", encode(second, "b.csv"))
    [failed] = ingest_landing(build_definitions(platform, contracts=[v2]), instance, [v2])
    assert not failed.success
    assert "column 'distance' is int64 in the table" in (failed.error or "")
    assert "max_retries" not in (failed.error or "")
    run = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))[0]
    retried = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert retried == []  # failed once, with its message
    # nothing is lost: the upload waits in landing for the contract's fix
    custody = Custody(store, settings)
    assert custody.quarantined("flights") == []
    assert store.exists(custody.landing_key("flights", "b.csv"))


def test_an_integer_to_float_change_is_named_then_migrated_and_the_waiting_upload_published(
    settings, store, instance, tmp_path
):
    """#32: the change is named (column, old type, new type, the command) before any run;
    `datasets migrate` rebuilds the tables from the archive under the new contract, the
    upload that waited in landing is published, rows per layer are equal before and after
    (plus the new upload), and the old tables, kept aside with a tag, read the old values."""
    platform = SettingsResource.from_settings(settings)
    _publish_v1(settings, store, instance)
    v2 = _flights(2, "float")
    lake = Lakehouse(open_catalog(settings))
    changes = contract_changes(v2, lake)
    advice = migration_advice(v2, changes)
    assert "raw.flights: column 'distance': int64 -> double: needs a migration" in advice
    assert "data-platform datasets migrate flights" in advice
    second = pl.DataFrame({"flight_id": [3], "distance": [150.5]})
    put_bytes(store, settings, "flights", "b.csv", encode(second, "b.csv"))
    defs_v2 = build_definitions(platform, contracts=[v2])
    [waiting] = ingest_landing(defs_v2, instance, [v2])
    assert not waiting.success
    assert "datasets migrate flights" in (waiting.error or "")
    # the sensor's tick (what the UI shows) says why the upload waits
    sensor = defs_v2.resolve_sensor_def("flights_landing_sensor")
    store_resource = {"store": defs_v2.resources["store"]}
    with dg.build_sensor_context(instance=instance, resources=store_resource) as context:
        asked = sensor(context)
    assert isinstance(asked, dg.SensorResult)
    with dg.build_sensor_context(
        instance=instance, cursor=asked.cursor, resources=store_resource
    ) as context:
        idle = sensor(context)
    assert isinstance(idle, dg.SkipReason)
    assert "1 upload(s) pending, 1 being ingested; the last run failed" in idle.skip_message
    assert "is int64 in the table" in idle.skip_message
    # `datasets show` names the change, the command, the waiting upload and why it waits
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "flights.yaml").write_text(FLIGHTS.format(version=2, distance="float"))
    env = {**settings.as_env(), "DP_DATASETS_DIR": str(folder), "COLUMNS": "400"}
    shown = CliRunner().invoke(datasets_app, ["show", "flights"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "column 'distance': int64 -> double: needs a migration" in shown.output
    assert "pending    1 upload(s) in landing: b.csv" in shown.output
    assert "last failure" in shown.output
    assert "is int64 in the table" in shown.output
    migrated = CliRunner().invoke(datasets_app, ["migrate", "flights"], env=env)
    assert migrated.exit_code == 0, migrated.output
    assert "kept aside   staged.flights -> staged.flights__v1" in migrated.output
    rows = {
        line.split()[0]: line.split()
        for line in migrated.output.splitlines()
        if "rows before" in line
    }
    assert rows["raw.flights"][1] == "2"  # before
    assert rows["raw.flights"][4] == "3"  # after: the waiting upload too
    assert rows["staged.flights"][1] == "2"
    assert rows["staged.flights"][4] == "3"
    staged = pl.from_arrow(lake.read("staged.flights").data)
    assert isinstance(staged, pl.DataFrame)
    assert staged.sort("flight_id")["distance"].to_list() == [100.0, 200.0, 150.5]
    assert staged.schema["distance"] == pl.Float64
    aside = "staged.flights__v1"
    tagged = lake.resolve_snapshot(aside, "before-migrate")
    old = pl.from_arrow(lake.read(aside, snapshot_id=tagged).data)
    assert isinstance(old, pl.DataFrame)
    assert old.sort("flight_id")["distance"].to_list() == [100, 200]  # old type, old rows
    assert not store.exists(Custody(store, settings).landing_key("flights", "b.csv"))
    assert migrate_dataset(settings, v2, instance=instance) is None  # nothing left to do


def test_a_renamed_column_keeps_its_data(settings, store, instance):
    """#32: `renamed_from` renames the column in the tables in place (Iceberg keeps the data):
    the rows published under the old name read under the new one."""
    platform = SettingsResource.from_settings(settings)
    _publish_v1(settings, store, instance)
    v2 = parse_contract(
        "name: flights\nversion: 2\nkey: [flight_id]\ncolumns:\n  flight_id: {type: integer}\n"
        "  miles: {type: integer, renamed_from: distance}\n",
        "flights.yaml",
    )
    second = pl.DataFrame({"flight_id": [3], "miles": [300]})
    put_bytes(store, settings, "flights", "b.csv", encode(second, "b.csv"))
    [done] = ingest_landing(build_definitions(platform, contracts=[v2]), instance, [v2])
    assert done.success, done.error
    lake = Lakehouse(open_catalog(settings))
    for layer in ("raw", "staged", "transformed"):
        rows = pl.from_arrow(lake.read(f"{layer}.flights").data)
        assert isinstance(rows, pl.DataFrame)
        assert "distance" not in rows.columns, layer
        assert rows.sort("flight_id")["miles"].to_list() == [100, 200, 300], layer


@pytest.mark.slow
def test_dg_check_defs_names_a_change_that_needs_a_migration(settings, store, instance, tmp_path):
    """#32: the change is named when the code location loads, before any upload meets it."""
    _publish_v1(settings, store, instance)
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "flights.yaml").write_text(FLIGHTS.format(version=2, distance="float"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    root = Path(__file__).resolve().parents[2]
    (home / "dagster.yaml").write_text((root / "dagster.yaml").read_text())
    env = {
        **os.environ,
        **settings.as_env(),
        "DP_DATASETS_DIR": str(folder),
        "DAGSTER_HOME": str(home),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=env,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]  # a migration due is something to act on
    assert "ContractError: dataset flights: raw.flights: column 'distance': int64 -> double" in out
    assert "needs a migration" in out
    assert "data-platform datasets migrate flights" in out
