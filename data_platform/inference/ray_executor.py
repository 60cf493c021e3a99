"""The Ray executor: a local Ray on loopback by default, or a cluster at an address.

A local Ray is a new instance (``address="local"``: never another user's cluster found
through ``RAY_ADDRESS`` or the last ``ray start``), started with `num_cpus=workers`, no
dashboard, its session files in a project folder, bound to 127.0.0.1
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray's constants are imported and by the
processes Ray starts), no usage reporting and no token auth (``RAY_AUTH_MODE=disabled``);
values already in the environment win. Ray is shut down on exit only when this executor
started it. The predictor is put in the object store once and each chunk becomes one task.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import polars as pl

from data_platform.inference.predictor import call_predictor
from data_platform.settings import DEFAULT_HOME, set_library_env

RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # local node binds 127.0.0.1, not every interface
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",  # no network calls home
}
MAX_TEMP_DIR_CHARS = 60  # Ray's unix sockets live below it; AF_UNIX paths stop at 107 bytes


def default_temp_dir() -> Path:
    """``<default home>/ray`` under the current directory (the project's home)."""
    return (DEFAULT_HOME / "ray").resolve()


def _import_ray() -> Any:
    env = set_library_env(RAY_ENV, override=False)
    already = "ray" in sys.modules
    import ray

    if already and env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] == "0":
        # Ray was imported before the variable was set: its constant decides the bind address
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False
    return ray


def _ray_call(predictor: Any, chunk: pl.DataFrame, method: str) -> np.ndarray:
    return call_predictor(predictor, chunk, method)


def _ready() -> int:
    time.sleep(0.05)
    return os.getpid()


class RayExecutor:
    """Chunks as Ray tasks (one CPU each); see the module docstring for the set-up."""

    kind = "ray"

    def __init__(
        self,
        predictor: Any,
        workers: int = 1,
        *,
        address: str | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        self.predictor = predictor
        self.workers = workers
        self.address = address
        self.temp_dir = (temp_dir or default_temp_dir()).resolve()
        if address is None and len(str(self.temp_dir)) > MAX_TEMP_DIR_CHARS:
            raise ValueError(
                f"Ray temp dir {self.temp_dir} is longer than {MAX_TEMP_DIR_CHARS} characters: "
                "Ray's socket paths below it would pass the 107-byte AF_UNIX limit"
            )
        self._ray: Any = None
        self._started = False
        self._predictor_ref: Any = None
        self._task: Any = None

    def __enter__(self) -> RayExecutor:
        ray = self._ray = _import_ray()
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                self.temp_dir.mkdir(parents=True, exist_ok=True)
                ray.init(
                    address="local",  # a fresh instance: never attach to another's cluster
                    num_cpus=self.workers,
                    include_dashboard=False,
                    _temp_dir=str(self.temp_dir),
                    log_to_driver=False,
                )
            self._started = True
        try:
            self._predictor_ref = ray.put(self.predictor)
            self._task = ray.remote(num_cpus=1)(_ray_call)
        except BaseException:
            self._shutdown()
            raise
        return self

    def warm_up(self) -> float:
        """Run one short task per worker, so worker processes exist; seconds taken."""
        start = time.perf_counter()
        ready = self._ray.remote(num_cpus=1)(_ready)
        self._ray.get([ready.remote() for _ in range(self.workers)])
        return time.perf_counter() - start

    def map(self, chunks: Sequence[pl.DataFrame], method: str = "predict") -> list[np.ndarray]:
        refs = [self._task.remote(self._predictor_ref, chunk, method) for chunk in chunks]
        answers: list[np.ndarray] = self._ray.get(refs)
        return answers

    def _shutdown(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._predictor_ref = None
        self._shutdown()
