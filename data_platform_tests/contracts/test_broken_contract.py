"""A broken contract is its own dataset's problem, named in one line: file, line, field.

It never stops the CLI (`--help`, `stack`, `objects` do not read contracts at all), it
takes out only its own dataset where the others are safe to use (`datasets list`,
`datasets show <other>`, `ingest`), it stops what needs every contract (`dev`, `demo`)
with that line instead of a traceback, and it fails the code location with one error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_platform.contracts import (
    ContractError,
    load_contracts,
    load_dataset,
    scan_contracts,
)
from data_platform.ops.cli.main import app

GOOD = "name: notes\nkey: [note_id]\ncolumns:\n  note_id: {type: string}\n  body: {type: string}\n"
BROKEN = (
    "name: tickets\n"
    "columns:\n"
    "  ticket_id: {type: string}\n"
    "  reply_minutes: {type: floaty, min: 0}\n"  # line 4
)
WHERE = "tickets.yaml:4: columns.reply_minutes.type: Input should be 'integer'"

runner = CliRunner()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A datasets folder with one good and one broken contract; no store configured."""
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    (datasets / "notes.yaml").write_text(GOOD)
    (datasets / "tickets.yaml").write_text(BROKEN)
    for name in [n for n in os.environ if n.startswith(("DP_", "DAGSTER_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DP_DATASETS_DIR", str(datasets))
    monkeypatch.setenv("DP_HOME", str(tmp_path / "home"))
    return datasets


def one_line_error(text: str) -> str:
    """The only line naming the broken file; no traceback around it."""
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if "tickets.yaml" in line]
    assert len(lines) == 1, text
    return lines[0]


# -- the loader ------------------------------------------------------------------------------
def test_the_scan_keeps_the_good_contracts_and_names_the_broken_file(folder):
    scan = scan_contracts(folder)
    assert [c.name for c in scan.contracts] == ["notes"]
    [error] = scan.errors
    assert str(error).startswith(f"{folder / WHERE}")
    with pytest.raises(ContractError, match=WHERE):
        load_contracts(folder)  # what needs every contract still refuses


def test_a_dataset_is_read_from_its_own_file_only(folder):
    assert load_dataset(folder, "notes").key == ("note_id",)
    with pytest.raises(ContractError, match=WHERE):
        load_dataset(folder, "tickets")
    with pytest.raises(KeyError, match="unknown dataset 'nope'; declared datasets: notes, tickets"):
        load_dataset(folder, "nope")


def test_a_dataset_declared_twice_is_an_error_not_a_silent_choice(folder):
    (folder / "notes.yml").write_text(GOOD)
    scan = scan_contracts(folder)
    assert [c.name for c in scan.contracts] == ["notes"]
    assert any(
        "notes.yml:1: name: dataset 'notes' is declared twice" in str(e) for e in scan.errors
    )
    with pytest.raises(ContractError, match="declared twice"):
        load_dataset(folder, "notes")


# -- the CLI ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["--help"], ["stack", "status"], ["datasets", "--help"]])
def test_commands_that_need_no_contract_work(folder, args):
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "tickets" not in done.output


def test_objects_fails_only_for_want_of_a_store(folder):
    done = runner.invoke(app, ["objects", "ls"])
    assert done.exit_code == 2
    assert "no usable store configuration" in done.output
    assert "tickets" not in done.output


def test_datasets_list_shows_the_good_ones_and_names_the_broken_file(folder):
    done = runner.invoke(app, ["datasets", "list"])
    assert done.exit_code == 1  # something is wrong: scripts notice
    assert "notes" in done.stdout
    line = one_line_error(done.stderr)
    assert line.startswith("error: ")
    assert WHERE in line


def test_datasets_show_reads_only_the_dataset_asked_for(folder):
    good = runner.invoke(app, ["datasets", "show", "notes"])
    assert good.exit_code == 0, good.output
    assert "note_id" in good.stdout
    broken = runner.invoke(app, ["datasets", "show", "tickets"])
    assert broken.exit_code == 1
    assert WHERE in one_line_error(broken.stderr)


@pytest.mark.parametrize("command", ["dev", "demo"])  # ingest: test_ingest_cli.py
def test_what_needs_every_contract_stops_with_one_line(folder, monkeypatch, command):
    # an external endpoint (nothing listens): whatever runs first starts no server
    monkeypatch.setenv("DP_S3_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("DP_S3_ACCESS_KEY", "nobody")
    monkeypatch.setenv("DP_S3_SECRET_KEY", "nothing")
    done = runner.invoke(app, [command])
    assert done.exit_code == 1, done.output
    assert WHERE in one_line_error(done.output)


# -- the code location -------------------------------------------------------------------------
def test_the_code_location_fails_with_the_error_not_a_traceback(folder):
    """`dg check defs`, `dagster dev` and the code server show the error Dagster raises when
    it calls `defs`: the file, line and field, from one frame, without the loader's."""
    code = (
        "import traceback\n"
        "import data_platform.definitions as location\n"  # importing reads no contract
        "try:\n"
        "    location.defs()\n"
        "except Exception as exc:\n"
        "    frames = traceback.extract_tb(exc.__traceback__)\n"
        "    print(type(exc).__name__, exc.__cause__, exc.__suppress_context__)\n"
        "    print([frame.name for frame in frames])\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=True,
    )
    kind, frames, message = done.stdout.splitlines()[-3:]
    assert kind == "ContractError None True"
    # raised in defs (called through Dagster's LazyDefinitions), not deep in the loader
    assert frames == "['<module>', '__call__', 'defs']"
    rest = "'float', 'boolean', 'string', 'date', 'datetime' or 'list'"
    assert message == f"{folder / WHERE}, {rest}"


@pytest.mark.slow
def test_dg_check_defs_prints_one_clear_error(folder):
    root = Path(__file__).resolve().parents[2]  # the project: its pyproject's [tool.dg]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=os.environ.copy(),
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"ContractError: {folder / WHERE}" in out
    assert "loader.py" not in out  # the loader's frames are not the user's business
    assert "The above exception" not in out  # no chained traceback
