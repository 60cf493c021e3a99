"""Which Ray cluster a driver connects to: an address from the settings, or the local
cluster that `data-platform cluster up` started, read from the state file it wrote.

Only reading here: the launcher (`ops/stack/ray_cluster.py`) starts and stops the local
cluster and writes that file; the code location reads it and never imports the launcher.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from data_platform.settings import Settings


@dataclass(frozen=True)
class ClusterState:
    """What `cluster up` writes: where the head is, the token, and every node's PID."""

    address: str
    root: str
    token_file: str
    nodes: dict[str, int] = field(default_factory=dict)  # node name -> PID
    dashboard: str = ""  # the head's dashboard (Ray's Jobs API), http://127.0.0.1:<port>

    def driver_env(self) -> dict[str, str]:
        """The variables a driver process needs to connect (`ray.init(address=...)`)."""
        return {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": self.token_file,
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # keeps 127.0.0.1 as given
        }


def local_cluster_root(settings: Settings) -> Path:
    """The folder of the local cluster of `data-platform cluster up`."""
    return settings.home_dir / "ray_cluster"


def read_cluster_state(state_file: Path) -> ClusterState | None:
    """The state a cluster's launcher wrote, or None when there is none or its head is gone
    (the launcher cleans such a stale file up on its next look)."""
    try:
        state = ClusterState(**json.loads(state_file.read_text()))
    except FileNotFoundError:
        return None
    try:
        os.kill(state.nodes.get("head", -1), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    return state


def cluster_token(settings: Settings, address: str) -> str | None:
    """The token file of the local cluster if it is the one at `address`, else the external
    cluster's (`Settings.ray_token_file`, Ray's `RAY_AUTH_TOKEN_PATH`), else None."""
    state = read_cluster_state(local_cluster_root(settings) / "state.json")
    if state is not None and state.address == address:
        return state.token_file
    return settings.ray_token_file or None


def ray_target(settings: Settings, address: str = "") -> tuple[str, str | None]:
    """The cluster `executor: ray` runs on: `address`, else DP_RAY_ADDRESS ("" for none),
    and its token file when it is the local cluster."""
    address = address or settings.ray_address
    return address, (cluster_token(settings, address) if address else None)


def ray_jobs_target(settings: Settings) -> tuple[str, str | None]:
    """The Ray Jobs API that Dagster steps are submitted to, and the cluster's token file.

    `DP_RAY_JOBS_ADDRESS` (with `DP_RAY_TOKEN_FILE` for its token), else the dashboard of the
    local cluster when it is the one at `DP_RAY_ADDRESS` (or no address is set).
    """
    if settings.ray_jobs_address:
        return settings.ray_jobs_address, settings.ray_token_file or None
    state = read_cluster_state(local_cluster_root(settings) / "state.json")
    if state is not None and state.dashboard and settings.ray_address in ("", state.address):
        return state.dashboard, state.token_file
    raise ValueError(
        "DP_DAGSTER_EXECUTOR=ray needs a Ray Jobs API: set DP_RAY_JOBS_ADDRESS (the head's "
        "dashboard, http://host:8265), or start the local cluster (`data-platform cluster up`)"
    )
