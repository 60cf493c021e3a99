"""Fake `mc` and `minio` executables for testing the scripts in infra/local.

MinIO's server and client cannot be installed on these machines, so tests put these fakes on
PATH. Each records its arguments under FAKE_DIR; `mc` also answers like the real client where
the setup script depends on the answer (a failing `alias set` while the server is not up,
"already in effect" for a repeated policy attach) and keeps a copy of each policy it is given.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from data_platform_tests.infra.infra_files import LOCAL_DIR

SETUP = LOCAL_DIR / "minio-setup.sh"
SERVER = LOCAL_DIR / "minio-server.sh"

FAKE_MC = r"""#!/usr/bin/env bash
set -euo pipefail
echo "$*" >>"$FAKE_DIR/raw.log"
[ "$1" = "--config-dir" ] && shift 2
echo "$*" >>"$FAKE_DIR/calls.log"
case "$1 ${2:-}" in
  "alias set")
    left="$(cat "$FAKE_DIR/alias_failures" 2>/dev/null || echo 0)"
    if [ "$left" -gt 0 ]; then
      echo $((left - 1)) >"$FAKE_DIR/alias_failures"
      echo "mc: <ERROR> Unable to initialize new alias from the provided credentials." >&2
      exit 1
    fi ;;
  "admin policy")
    if [ "$3" = create ]; then cp "$6" "$FAKE_DIR/policy-$5.json"; fi
    if [ "$3" = attach ]; then
      if [ -n "${FAKE_ATTACH_ERROR:-}" ]; then echo "$FAKE_ATTACH_ERROR" >&2; exit 1; fi
      if [ -e "$FAKE_DIR/attached-$5-$7" ]; then
        echo "mc: <ERROR> Unable to make user/group policy association." \
          "The specified policy change is already in effect." >&2
        exit 1
      fi
      touch "$FAKE_DIR/attached-$5-$7"
    fi ;;
esac
"""

BASE_ENV = {
    "MINIO_ENDPOINT": "http://127.0.0.1:9999",
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "root-password",
    "DP_BUCKET": "test-lake",
    "PLATFORM_ACCESS_KEY": "platform",
    "PLATFORM_SECRET_KEY": "platform-secret",
    "READONLY_ACCESS_KEY": "reader",
    "READONLY_SECRET_KEY": "reader-secret",
}


FAKE_MINIO = """#!/usr/bin/env bash
echo "$*" >"$FAKE_DIR/minio.args"
"""


def make_fakes(folder: Path) -> Path:
    """Create `folder` with the fake `mc` and `minio`; return it (the FAKE_DIR)."""
    folder.mkdir(parents=True)
    for name, text in (("mc", FAKE_MC), ("minio", FAKE_MINIO)):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return folder


def run(script: Path, fake_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a script with the fakes first on PATH and only `env` besides PATH and FAKE_DIR."""
    full = {"PATH": f"{fake_dir}:{os.environ['PATH']}", "FAKE_DIR": str(fake_dir), **env}
    return subprocess.run(
        ["bash", str(script)], env=full, capture_output=True, text=True, timeout=60, check=False
    )


def calls(fake_dir: Path) -> list[str]:
    """The fake mc's calls, without the --config-dir option."""
    return (fake_dir / "calls.log").read_text().splitlines()


def actions_by_resource(policy: dict) -> dict[str, set[str]]:
    """Actions by resource of an IAM policy document: allowed ones under the resource,
    denied ones under `Deny <resource>`."""
    by_resource: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        if statement["Effect"] not in ("Allow", "Deny"):
            raise ValueError(f"unexpected statement {statement}")
        prefix = "" if statement["Effect"] == "Allow" else "Deny "
        for resource in statement["Resource"]:
            by_resource.setdefault(prefix + resource, set()).update(statement["Action"])
    return by_resource


def policy_by_resource(fake_dir: Path, name: str) -> dict[str, set[str]]:
    """Actions by resource of the policy `name` the setup script gave the fake mc."""
    return actions_by_resource(json.loads((fake_dir / f"policy-{name}.json").read_text()))
