"""How a run executes its steps: in the run's process, or each step as a Ray job.

`DP_DAGSTER_EXECUTOR=ray` gives every job dagster-ray's `ray_executor`: the run stays where
it was launched, and each step is submitted to the cluster's Jobs API as a Ray job that runs
`dagster api execute_step` on a node, writing its events to the run's Dagster instance (so
the instance must be one the nodes reach: PostgreSQL, or SQLite on a shared filesystem).
Where the Jobs API is and its token are read when a run starts (`ray_jobs_target`), the
step's environment is this process's DP_* variables (`remote_step_env`).

A step asks for cluster resources with the tag dagster-ray reads, e.g. to pin it to a node:
`op_tags={"dagster-ray/config": {"resources": {"dp_node_worker1": 0.01}}}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.ray.targets import ray_jobs_target
from data_platform.settings import Settings, remote_step_env


def ray_step_config(settings: Settings) -> dict[str, Any]:
    """dagster-ray's executor config: the Jobs API, its token as a header, the step env."""
    address, token_file = ray_jobs_target(settings)
    config: dict[str, Any] = {"address": address, "env_vars": remote_step_env(settings)}
    if token_file:  # Ray's token auth, as its own clients send it
        token = Path(token_file).read_text().strip()
        config["headers"] = {"Authorization": f"Bearer {token}"}
    return {"ray": config}


def build_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor of every job: `dagster_executor` of the settings."""
    if settings.dagster_executor == "in_process":
        # steps run in the run's process: a subprocess per step re-imports everything (5-10 s)
        return dg.in_process_executor
    from dagster_ray import ray_executor  # imported only where it is used: 0.1-0.3 s

    # a function of the (empty) run config: the Jobs API and token are read when a run starts
    return ray_executor.configured(
        lambda _: ray_step_config(settings), name="ray", config_schema={}
    )
