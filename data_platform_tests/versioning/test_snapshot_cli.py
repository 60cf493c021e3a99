"""`data-platform snapshot tag|list` and `maintain --dry-run` against the test's lake."""

from __future__ import annotations

import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from data_platform.lakehouse import Lakehouse
from data_platform.ops.cli.maintain import maintain
from data_platform.ops.cli.snapshot import snapshot_app
from data_platform.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "DP_HOME": str(settings.home),
        "DP_S3_ENDPOINT": settings.endpoint,
        "DP_S3_ACCESS_KEY": settings.access_key,
        "DP_S3_SECRET_KEY": settings.secret_key,
        "DP_BUCKET": settings.bucket,
        "COLUMNS": "200",  # rich tables: wide enough for whole snapshot ids
    }


def test_tag_then_list_then_tag_again_moves_the_tag(lakehouse: Lakehouse, env):
    runner = CliRunner()
    empty = runner.invoke(snapshot_app, ["tag", "release-1"], env=env)
    assert empty.exit_code == 1  # nothing to tag yet
    lakehouse.append("raw.a", pa.table({"v": [1, 2]}))
    lakehouse.append("staged.b", pa.table({"v": [3]}))

    tagged = runner.invoke(snapshot_app, ["tag", "release-1"], env=env)
    assert tagged.exit_code == 0, tagged.output
    first = {t: lakehouse.resolve_snapshot(t, "release-1") for t in ("raw.a", "staged.b")}
    assert first == {t: lakehouse.snapshot_id(t) for t in first}
    assert all(str(s) in tagged.output for s in first.values())

    lakehouse.append("raw.a", pa.table({"v": [4]}))
    listed = runner.invoke(snapshot_app, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("release-1") == 2
    assert str(first["raw.a"]) in listed.output
    assert str(lakehouse.snapshot_id("raw.a")) in listed.output  # main's head, now newer

    only_raw = runner.invoke(snapshot_app, ["tag", "release-1", "--table", "raw.a"], env=env)
    assert only_raw.exit_code == 0, only_raw.output
    assert lakehouse.resolve_snapshot("raw.a", "release-1") == lakehouse.snapshot_id("raw.a")
    assert lakehouse.resolve_snapshot("staged.b", "release-1") == first["staged.b"]
    assert runner.invoke(snapshot_app, ["tag", "main"], env=env).exit_code == 2


def test_maintain_dry_run_prints_the_report_and_changes_nothing(lakehouse: Lakehouse, env):
    for i in range(3):
        lakehouse.append("raw.a", pa.table({"v": [i]}))
    before = lakehouse.load("raw.a").metadata.snapshots
    app = typer.Typer()
    app.command()(maintain)
    args = ["--dry-run", "--retain-last", "1", "--max-age-days", "0", "--compact-min-files", "2"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "maintenance (dry run)" in result.output
    assert "raw.a" in result.output
    assert "(unpartitioned)" in result.output  # 3 small files would be compacted
    assert lakehouse.load("raw.a").metadata.snapshots == before
