"""`data-platform` answers at once: starting the CLI imports no data library.

Every command used to pay ~3.5 s and ~280 MB (Dagster, polars, pyiceberg, the demo and
every contract) before doing anything. Now a command's module is imported when the
command runs, and imports inside the command what the command needs. These tests look
at which modules a fresh interpreter holds and at its peak memory, never at wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# what the lakehouse's commands need, and only they
HEAVY = (
    "dagster",
    "polars",
    "pyiceberg",
    "pyarrow",
    "pandas",
    "numpy",
    "duckdb",
    "lancedb",
    "torch",
    "sklearn",
    "ray",
    "data_platform.definitions",
    "data_platform.ops.demo",
    "data_platform.lakehouse",
)
RSS_LIMIT_MB = 120


def heavy_modules(code: str, env: dict[str, str] | None = None) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running `code`."""
    script = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def peak_rss_mb(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Peak RSS of `data-platform ARGS`, measured by a parent that has no other child
    (this test process's own children, e.g. servers, do not count)."""
    parent = (
        "import json, resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps([peak, done.returncode, done.stdout, done.stderr]))"
    )
    command = [sys.executable, "-m", "data_platform.ops.cli.main", *args]
    done = subprocess.run(
        [sys.executable, "-c", parent, *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    peak, code, out, err = json.loads(done.stdout)
    return peak, subprocess.CompletedProcess(command, code, out, err)


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """No store configured, no stack running: the commands answer from settings alone."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DP_", "DAGSTER_"))}
    env["DP_HOME"] = str(tmp_path / "home")
    env["DP_DATASETS_DIR"] = str(tmp_path / "datasets")
    return env


def test_importing_the_cli_imports_no_command():
    assert heavy_modules("import data_platform.ops.cli.main") == []
    modules = heavy_modules(
        "import sys, data_platform.ops.cli.main\n"
        "assert not [m for m in sys.modules if m.startswith('data_platform.ops.cli.')"
        " and m != 'data_platform.ops.cli.main'], 'a command module was imported'"
    )
    assert modules == []


def test_every_command_module_is_light_at_import():
    """`--help` imports every command's module: each imports only typer, rich, stdlib."""
    code = (
        "from data_platform.ops.cli.main import COMMANDS, load_command\n"
        "for name in COMMANDS: load_command(name)"
    )
    assert heavy_modules(code) == []


@pytest.mark.parametrize(
    ("args", "client"),
    [
        (["objects", "ls"], "data_platform.storage"),
        (["stack", "status"], "data_platform.ops.stack"),
    ],
)
def test_objects_and_stack_import_their_client_and_no_more(cli_env, args, client):
    code = (
        "import sys\n"
        "from typer.main import get_command\n"
        "from data_platform.ops.cli.main import app\n"
        "try:\n"
        f"    get_command(app).main({args!r}, standalone_mode=False)\n"
        "except BaseException:  # objects ls, no store configured: exit 2\n"
        "    pass\n"
        f"assert {client!r} in sys.modules, 'the command did not get as far as its client'"
    )
    assert heavy_modules(code, env=cli_env) == []


@pytest.mark.parametrize("args", [["--help"], ["objects", "ls"], ["stack", "status"]])
def test_a_light_command_stays_under_120_mb(cli_env, args):
    peak, done = peak_rss_mb(args, cli_env)
    assert done.returncode in (0, 2), done.stderr  # objects ls: 2, no store configured
    assert "Traceback" not in done.stderr
    assert peak <= RSS_LIMIT_MB, f"{args}: {peak:.0f} MB"
