"""Operating the platform: S3 restarts, the Dagster instance on PostgreSQL, validation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.runner import ingest_landing
from data_platform.ops.stack.seaweed import EmbeddedS3
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows
from data_platform_tests.fixtures.s3 import make_settings

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
REVIEWS = (sample_contract("reviews"),)


def test_s3_server_restart_between_materialisations(tmp_path, instance):
    stack = EmbeddedS3(tmp_path / "stack")
    try:
        settings = make_settings(stack.up(), tmp_path / "home", "lake")
        defs = build_definitions(SettingsResource.from_settings(settings))
        store = ObjectStore.from_settings(settings)
        put_upload(store, settings, "reviews", "a.csv", sample_rows("reviews", 60))
        assert all(o.success for o in ingest_landing(defs, instance, REVIEWS))
        stack.down()
        restarted = stack.up()
        assert restarted.endpoint == settings.endpoint  # same ports, same keys, same data
        job = defs.resolve_job_def("ingest_reviews")
        assert job.execute_in_process(partition_key="a.csv", instance=instance).success
        put_upload(store, settings, "reviews", "b.csv", sample_rows("reviews", 10, start_id=1000))
        assert [o.success for o in ingest_landing(defs, instance, REVIEWS)] == [True]
        assert Lakehouse(open_catalog(settings)).count("transformed.reviews") == 70
    finally:
        stack.down()


@pytest.mark.postgres
def test_dagster_instance_on_postgresql(
    tmp_path, monkeypatch, postgres_server, postgres_database, defs
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "infra/local/dagster.postgres.yaml", home / "dagster.yaml")
    for key, value in {
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_USER": postgres_server.user,
        "DAGSTER_PG_PASSWORD": postgres_server.password,
        "DAGSTER_PG_DB": postgres_database,
    }.items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("reviews_uploads", ["none.csv"])
        result = defs.resolve_job_def("ingest_reviews").execute_in_process(
            partition_key="none.csv", instance=instance, raise_on_error=False
        )
        assert not result.success  # no such upload: the run fails, and is recorded
    conn = postgres_server.connect(postgres_database)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT partition FROM dynamic_partitions")
        assert cur.fetchall() == [("none.csv",)]
    conn.close()


def _dagster_cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """A Dagster command line on the project, with an instance of the repo's dagster.yaml."""
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    return subprocess.run(
        args,
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dagster_definitions_validate(tmp_path):
    done = _dagster_cli(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "Validation successful" in output
    # the project loads without a warning; Dagster 1.13 itself warns that this command is
    # superseded by `dg check defs` (raised by its CLI before any project code is loaded)
    warnings = [
        line
        for line in output.splitlines()
        if "warning" in line.lower() and "Use 'dg check defs' instead" not in line
    ]
    assert not warnings, warnings


def test_dg_checks_and_lists_the_definitions(tmp_path):
    """`dg`, the way Dagster projects are driven today, sees the project as it is."""
    dg_cli = str(Path(sys.executable).with_name("dg"))
    checked = _dagster_cli([dg_cli, "check", "defs"], tmp_path)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    assert "warning" not in (checked.stdout + checked.stderr).lower()  # nothing to act on
    listed = _dagster_cli([dg_cli, "list", "defs", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert {"raw/reviews", "staged/reviews", "transformed/reviews"} <= keys
