"""The ingestion wing is Dagster-free: the run yields plain results that defs/ maps to events."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import data_platform.ingest

WING = Path(data_platform.ingest.__file__).parent


def dagster_imports(path: Path) -> list[str]:
    """Every import of a dagster package in a module, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0].startswith("dagster")
        ]
    return found


def test_no_module_of_the_ingest_wing_imports_dagster():
    modules = sorted(WING.rglob("*.py"))
    assert WING / "run.py" in modules
    assert [hit for path in modules for hit in dagster_imports(path)] == []


def test_importing_the_ingest_run_loads_no_dagster():
    """Not through another package either (contracts, lakehouse, storage, settings)."""
    code = (
        "import sys\n"
        "import data_platform.ingest.run\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('dagster')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
