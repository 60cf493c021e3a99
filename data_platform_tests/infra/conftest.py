"""Fixtures for the deployment tests: the fake MinIO tools (see fakes.py for why)."""

from __future__ import annotations

import pytest

from data_platform_tests.infra.fakes import make_fakes


@pytest.fixture
def fake_dir(tmp_path):
    """A folder with fake `mc` and `minio` executables, to put first on PATH."""
    return make_fakes(tmp_path / "fake")
