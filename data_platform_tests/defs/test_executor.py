"""Which executor the jobs get, and where DP_DAGSTER_EXECUTOR=ray submits steps (no cluster)."""

from __future__ import annotations

import dagster as dg
import pytest

from data_platform.defs.executor import build_executor, ray_step_config
from data_platform.settings import Settings


def test_steps_run_in_the_runs_process_by_default():
    assert build_executor(Settings()) is dg.in_process_executor


def test_ray_steps_go_to_the_jobs_api_with_the_token(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("abc\n")
    monkeypatch.setenv("DP_HOME", str(tmp_path))
    monkeypatch.setenv("DP_RAY_JOBS_ADDRESS", "http://ray-head:8265")
    monkeypatch.setenv("DP_RAY_TOKEN_FILE", str(token))
    settings = Settings(dagster_executor="ray")
    assert build_executor(settings).name == "ray"
    config = ray_step_config(settings)["ray"]
    assert config["address"] == "http://ray-head:8265"
    assert config["headers"] == {"Authorization": "Bearer abc"}
    assert f"DP_HOME={tmp_path}" in config["env_vars"]


def test_ray_steps_without_a_jobs_api_fail_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("DP_HOME", str(tmp_path))  # no local cluster here
    monkeypatch.delenv("DP_RAY_JOBS_ADDRESS", raising=False)
    with pytest.raises(ValueError, match="DP_RAY_JOBS_ADDRESS"):
        ray_step_config(Settings(dagster_executor="ray"))
