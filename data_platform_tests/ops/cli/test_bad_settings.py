"""A `DP_*` setting that does not validate is one line and exit 2 in every command, naming
the variable, the value and why: never a traceback (`data-platform ingest` printed one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_platform.ops.cli.main import app

CASES = [
    (["ingest"], "DP_UPSERT_REWRITE_BELOW_ROWS", "abc", "Input should be a valid integer"),
    (["maintain", "--dry-run"], "DP_INGEST_BATCH_ROWS", "-1", "greater than"),
    (["sql", "select 1"], "DP_IDENTITY", "auditor", "Input should be 'admin' or 'analyst'"),
]


@pytest.mark.parametrize(("args", "variable", "value", "why"), CASES)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, args, variable, value, why):
    env = {"DP_HOME": str(tmp_path), variable: value}
    done = CliRunner().invoke(app, args, env=env)
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    [line] = [text for text in done.output.splitlines() if text.strip()]
    assert line.startswith("error: no usable store configuration: ")
    assert f"{variable}={value!r}" in line
    assert why in line


def test_the_installed_command_says_it_too(tmp_path):
    command = Path(sys.executable).parent / "data-platform"
    env = {"PATH": "/usr/bin:/bin", "DP_HOME": str(tmp_path), "DP_UPSERT_REWRITE_BELOW_ROWS": "x"}
    done = subprocess.run(
        [str(command), "ingest"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "DP_UPSERT_REWRITE_BELOW_ROWS='x'" in done.stderr
