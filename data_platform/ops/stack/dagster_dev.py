"""`dagster dev` (webserver and daemon) in the background, for tools that drive the UI.

`running_dagster_dev` starts it on a free port of 127.0.0.1 with its own DAGSTER_HOME and
the given settings, waits until the code location has loaded, and stops it by its PID.
The UI tests and the screenshot tool use it; `data-platform dev` runs the same
command in the foreground.
"""

from __future__ import annotations

import json
import signal
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_platform.ops.stack.process import (
    ProbeFailed,
    free_port,
    start_process,
    stop_pid,
    wait_until,
)
from data_platform.settings import Settings, child_env

READY_TIMEOUT_S = 180.0
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


# a run over a range of uploads (a batch) records one "materialization planned" event per
# asset, not one per upload and asset: three SQLite writes a batch instead of three per
# upload (measured: 6 of 30 s of a 200-upload batch). Dagster's cost, documented with the
# variable: a run that fails does not mark each of its partitions failed; each upload's own
# check evaluation and materializations still say what became of it
DAGSTER_ENV = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}


def dagster_dev_args(port: int, workspace: str = "workspace.yaml") -> list[str]:
    """The `python -m dagster dev` arguments: the UI and daemon on 127.0.0.1:`port`."""
    return ["-m", "dagster", "dev", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)]


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev`: where it answers, its PID, its instance and settings."""

    url: str
    pid: int
    home: Path
    settings: Settings
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a GraphQL query; GraphQL errors raise `RuntimeError`."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise RuntimeError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def loaded(self) -> bool:
        """Whether the code location has loaded; a load error raises `ProbeFailed`."""
        entries = self.graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]
        error = entries[0]["locationOrLoadError"]
        if error and error["__typename"] == "PythonError":
            raise ProbeFailed(error["message"])
        return entries[0]["loadStatus"] == "LOADED" and error is not None


@contextmanager
def running_dagster_dev(
    root: Path,
    settings: Settings,
    repo: Path,
    *,
    timeout: float = READY_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
) -> Iterator[DagsterDev]:
    """`dagster dev` of the project at `repo`, its instance and log under `root`; `env`
    adds variables (e.g. `DP_LANDING_SENSOR_INTERVAL_S`).

    Raises:
        TimeoutError: the code location did not load in `timeout` seconds (log tail given).
    """
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((repo / "dagster.yaml").read_text())
    port = free_port()
    log = root / "dagster-dev.log"
    pid = start_process(
        [sys.executable, *dagster_dev_args(port)],
        log_file=log,
        pid_file=root / "dagster-dev.pid",
        env=child_env(DAGSTER_HOME=str(home), **DAGSTER_ENV, **settings.as_env(), **(env or {})),
        cwd=repo,
    )
    dev = DagsterDev(f"http://127.0.0.1:{port}", pid, home, settings, log)
    try:
        try:
            wait_until(dev.loaded, timeout=timeout, interval=1.0, what="dagster dev loaded")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; log tail:\n{log.read_text()[-3000:]}") from None
        yield dev
    finally:
        stop_pid(pid, sig=signal.SIGINT, timeout=20)
