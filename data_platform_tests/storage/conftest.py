"""Storage-test fixtures: a store whose server is down, and the CLI's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_platform.ops.stack.process import free_port
from data_platform.ops.stack.seaweed import StackState
from data_platform.settings import Settings


@pytest.fixture
def down_settings(tmp_path: Path) -> Settings:
    """Settings for an endpoint where nothing listens: a free port, closed."""
    return Settings(
        home=tmp_path / "home",
        s3_endpoint=f"http://127.0.0.1:{free_port()}",
        s3_access_key="nobody",
        s3_secret_key="nothing-listens-here",
        bucket="lake",
    )


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, s3_server: StackState, settings: Settings, tmp_path: Path
) -> Settings:
    """DP_* variables for the CLI, pointing at the session's server and this test's bucket."""
    monkeypatch.setenv("DP_S3_ENDPOINT", s3_server.endpoint)
    monkeypatch.setenv("DP_S3_ACCESS_KEY", s3_server.access_key)
    monkeypatch.setenv("DP_S3_SECRET_KEY", s3_server.secret_key)
    monkeypatch.setenv("DP_BUCKET", settings.bucket)
    monkeypatch.setenv("DP_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return settings
