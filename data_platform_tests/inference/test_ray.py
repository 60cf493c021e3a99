"""Ray (local, loopback, project temp dir): same predictions, and Ray is shut down after."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
import psutil
import pytest

from data_platform.inference.executors import run_inference
from data_platform.inference.model import TabularModel


@pytest.mark.slow
def test_ray_matches_vectorised_and_shuts_down(model: TabularModel, unseen: pl.DataFrame) -> None:
    # Ray is a dependency of the platform: missing, this errors instead of skipping (imported
    # here as before, so collecting the suite still does not import Ray)
    import ray

    # a short folder: Ray's unix socket paths below it must stay under 107 bytes
    temp_dir = Path(tempfile.mkdtemp(prefix="dp-ray-", dir="/tmp"))
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    try:
        got = run_inference(model, unseen, "ray", 2, chunk_size=800, ray_temp_dir=temp_dir)
        assert (got == model.predict(unseen)).all()
        assert not ray.is_initialized()
        assert any(temp_dir.glob("session_*")), "Ray's session files are in the given folder"
        leftovers = [
            p.name()
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())
        ]
        assert leftovers == []
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
