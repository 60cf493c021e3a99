"""A Dagster run whose step executes on the 3-node cluster (DP_DAGSTER_EXECUTOR=ray)."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest
from ray.job_submission import JobStatus, JobSubmissionClient

from data_platform.defs.executor import build_executor, ray_step_config
from data_platform.ops.stack.ray_cluster import node_resource
from data_platform.ray.driver import ray_driver
from data_platform.settings import Settings

pytestmark = pytest.mark.cluster
WORKER = "worker1"
PROBE = dg.AssetKey("probe")


@dg.asset(op_tags={"dagster-ray/config": {"resources": {node_resource(WORKER): 0.01}}})
def probe() -> dg.MaterializeResult:
    """Says which process ran it, and the step key dagster-ray put in the Ray job's env."""
    return dg.MaterializeResult(
        metadata={"pid": os.getpid(), "step": os.environ.get("DAGSTER_RUN_STEP_KEY", "")}
    )


def probe_job() -> dg.JobDefinition:
    """Rebuilt from this module in the step's process on the node: `reconstructable`."""
    defs = dg.Definitions(
        assets=[probe],
        jobs=[dg.define_asset_job("probe_job", selection=[PROBE])],
        executor=build_executor(Settings()),
    )
    return defs.resolve_job_def("probe_job")


def test_a_run_executes_its_step_as_a_ray_job_on_a_worker_node(ray_cluster, tmp_path, monkeypatch):
    # the fixture's cluster is not `cluster up`'s: its Jobs API and token come from the
    # environment, as an external (KubeRay) cluster's do
    monkeypatch.setenv("DP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DP_DAGSTER_EXECUTOR", "ray")
    monkeypatch.setenv("DP_RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("DP_RAY_JOBS_ADDRESS", ray_cluster.dashboard)
    monkeypatch.setenv("DP_RAY_TOKEN_FILE", ray_cluster.token_file)
    # a SQLite instance on a filesystem the nodes share (one machine); PostgreSQL elsewhere
    (tmp_path / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        with dg.execute_job(dg.reconstructable(probe_job), instance=instance) as result:
            assert result.success
            run_id = result.run_id
        event = instance.get_latest_materialization_event(PROBE)
        assert event is not None
        assert event.run_id == run_id
        metadata = event.asset_materialization.metadata
        assert metadata["pid"].value != os.getpid()  # not this process
        assert metadata["step"].value == "probe"

    # the step was a Ray job of this run, and it ran on the worker node it was pinned to
    config = ray_step_config(Settings())["ray"]
    client = JobSubmissionClient(config["address"], headers=config["headers"])
    jobs = [j for j in client.list_jobs() if (j.metadata or {}).get("dagster/run-id") == run_id]
    assert len(jobs) == 1
    job = jobs[0]
    # the run ends on the step's events; its process may still be exiting: bounded wait
    deadline = time.monotonic() + 60
    while not job.status.is_terminal() and time.monotonic() < deadline:
        time.sleep(0.5)
        job = client.get_job_info(job.submission_id)
    assert job.status == JobStatus.SUCCEEDED
    assert job.metadata["dagster/op"] == "probe"
    with ray_driver(ray_cluster.address, ray_cluster.token_file) as ray:
        nodes = {n["NodeID"]: n["Resources"] for n in ray.nodes() if n["Alive"]}
    assert node_resource(WORKER) in nodes[job.driver_node_id]
