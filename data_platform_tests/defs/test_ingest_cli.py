"""`data-platform ingest` and `quarantine` through typer's CliRunner, against a real store.

What a person reads on the terminal: a store that fails is an error (never an empty
landing), a refused upload is one line naming where it went and how to see why, and the
quarantine listing fits an 80-column terminal.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner, Result

from data_platform.ingest.landing import Custody
from data_platform.ops.cli.main import app
from data_platform.ops.demo.samples import encode
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import DATASETS_DIR, put_bytes, put_upload, sample_rows

pytestmark = pytest.mark.integration
runner = CliRunner()


def _bad_value() -> bytes:
    lines = encode(sample_rows("reviews", 20, seed=9), "x.csv").decode().splitlines()
    fields = lines[4].split(",")
    fields[4] = "cheap"  # price of data row 4
    lines[4] = ",".join(fields)
    return "\n".join(lines).encode()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """`cli(settings, *args)`: the CLI as a user runs it, configured by DP_* variables, with
    only the `reviews` contract declared."""
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    shutil.copy(DATASETS_DIR / "reviews.yaml", datasets / "reviews.yaml")
    monkeypatch.chdir(tmp_path)

    def invoke(settings: Settings, *args: str, columns: int = 200) -> Result:
        env = {
            "DP_HOME": str(settings.home_dir),
            "DP_S3_ENDPOINT": settings.endpoint,
            "DP_S3_ACCESS_KEY": settings.access_key,
            "DP_S3_SECRET_KEY": settings.secret_key,
            "DP_BUCKET": settings.bucket,
            "DP_DATASETS_DIR": str(datasets),
            "COLUMNS": str(columns),
        }
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_a_dead_store_fails_ingest_instead_of_looking_empty(cli, own_stack):
    """Issue #26 item 11: the store killed while `ingest` lists landing read as "nothing
    waiting in landing", exit 0. A failed listing is an error, in one line."""
    stack, settings = own_stack
    store = ObjectStore.from_settings(settings)
    put_bytes(store, settings, "reviews", "waiting.csv", b"review_id\n1\n")
    stack.down()  # stopped by its PID, the upload still waiting
    result = cli(settings, "ingest")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert "nothing waiting" not in result.output
    assert "Traceback" not in result.output
    [line] = result.output.splitlines()
    assert "cannot list" in line
    assert "landing/reviews/" in line
    assert "list failed" in line  # the store's own message
    stack.up()
    assert store.exists(f"{settings.landing_prefix}reviews/waiting.csv")


def test_a_refused_upload_is_one_line(cli, settings, store):
    put_upload(store, settings, "reviews", "good.csv", sample_rows("reviews", 10))
    put_bytes(store, settings, "reviews", "bad.csv", _bad_value())
    result = cli(settings, "ingest")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "ERROR" not in result.output  # Dagster's console log stays out of the terminal
    [entry] = Custody(store, settings).quarantined("reviews")
    lines = result.output.splitlines()
    assert len(lines) == 2, result.output  # one per upload
    [refused] = [line for line in lines if "bad.csv" in line]
    assert refused.startswith("reviews bad.csv refused")
    assert "row 4, column 'price'" in refused
    assert "'cheap'" in refused
    assert entry.key in refused
    assert f"data-platform quarantine show {entry.key}" in refused
    [ok] = [line for line in lines if "good.csv" in line]
    assert "ok" in ok
    # the full log stays in the Dagster instance the runs were recorded in
    home = settings.home_dir / "dagster_home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        [run] = failed
        events = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        assert events
        assert "'cheap'" in events[0].dagster_event.step_failure_data.error.message


def test_a_broken_sibling_contract_does_not_stop_ingest(cli, settings, store, tmp_path):
    """Issue #33: a broken contract takes out its own dataset only. `ingest` names the
    file in one line and still ingests the others (exit 1: something needs fixing)."""
    (tmp_path / "datasets" / "tickets.yaml").write_text(
        "name: tickets\ncolumns:\n  ticket_id: {type: floaty}\n"
    )
    put_upload(store, settings, "reviews", "good.csv", sample_rows("reviews", 10))
    result = cli(settings, "ingest")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [broken] = [line for line in result.output.splitlines() if "tickets.yaml" in line]
    assert broken.startswith("error: ")
    assert "tickets.yaml:3: columns.ticket_id.type" in broken
    assert "reviews good.csv ok" in result.output
    named = cli(settings, "ingest", "tickets")
    assert named.exit_code == 1
    assert "unknown or broken dataset(s): tickets" in named.output


def test_quarantine_show_prints_every_problem(cli, settings, store):
    many = b"review_id,rating\n" + b"".join(b"r%d,x%d\n" % (i, i) for i in range(30))
    put_bytes(store, settings, "reviews", "many.csv", many)
    assert cli(settings, "ingest").exit_code == 1
    [entry] = Custody(store, settings).quarantined("reviews")
    shown = cli(settings, "quarantine", "show", entry.key)
    assert shown.exit_code == 0, shown.output
    assert entry.key in shown.output
    assert "many.csv" in shown.output
    for i in range(30):  # each value problem, not only the first few
        assert f"'x{i}'" in shown.output
    assert f"data-platform quarantine retry {entry.key}" in shown.output
    missing = cli(settings, "quarantine", "show", "quarantine/reviews/nothing/here.csv")
    assert missing.exit_code == 1
    assert "no quarantined upload" in missing.output
    assert "Traceback" not in missing.output


def test_quarantine_list_fits_80_columns(cli, settings, store):
    long_name = "a-rather-long-upload-name-from-a-partner-system-2026-12-07.csv"
    put_bytes(store, settings, "reviews", long_name, _bad_value())
    put_bytes(store, settings, "reviews", "b.csv", b"")
    assert cli(settings, "ingest").exit_code == 1
    entries = Custody(store, settings).quarantined("reviews")
    assert len(entries) == 2
    listed = cli(settings, "quarantine", "list", columns=80)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n" + listed.output
    rows = [line for line in lines if "reviews" in line and "quarantined" not in line]
    assert len(rows) == 2, listed.output  # each entry on one line
    assert "…" in listed.output  # the long reason is cut short
    assert "quarantine show" in listed.output  # and where to read it whole
    for entry in entries:  # each row names an id that `show` accepts
        [row] = [line for line in rows if entry.partition[:8] in line]
        short_id = row.split()[0]
        shown = cli(settings, "quarantine", "show", short_id)
        assert shown.exit_code == 0, shown.output
        assert entry.key in shown.output
