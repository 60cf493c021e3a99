"""Every run, sensor tick process and CLI command imports the code location first: the
libraries only some assets need are imported where they are used, not at load."""

from __future__ import annotations

import json
import subprocess
import sys

# scikit-learn (~1 s), matplotlib (~0.5 s), torch, LanceDB, Ray, dagster-ray
HEAVY = ("sklearn", "matplotlib", "torch", "sentence_transformers", "lancedb", "ray", "dagster_ray")


def test_loading_the_code_location_imports_no_heavy_library():
    # `defs` is a @dg.definitions function: Dagster builds it when it loads the location
    code = (
        "import json, sys; from data_platform.definitions import defs; defs(); "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
