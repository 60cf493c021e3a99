"""Crashes mid-ingest lose nothing: the store killed with -9, the run worker killed with -9.

Each test starts an ingest of a large upload, kills something with SIGKILL while it
writes, brings things back, runs the partition again, and checks that every table reads
and holds exactly the upload's rows (no partial commit, no duplicate).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_platform.core.generate import generate_reviews
from data_platform.demo.samples import encode
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.settings import Settings
from data_platform.stack.process import pid_alive, wait_until
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import DATASETS_DIR
from data_platform_tests.fixtures.s3 import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROWS = 600_000
LAYERS = ("raw", "staged", "transformed")

INGEST = """
import sys, dagster as dg
from pathlib import Path
from data_platform.contracts import load_dataset
from data_platform.definitions import build_definitions
from data_platform.resources import PlatformSettings
from data_platform.settings import Settings
settings = Settings()
contract = load_dataset(Path(sys.argv[2]), "reviews")
defs = build_definitions(PlatformSettings.from_settings(settings), contracts=[contract])
with dg.DagsterInstance.from_config(sys.argv[3]) as instance:
    instance.add_dynamic_partitions("reviews_uploads", [sys.argv[1]])
    result = defs.resolve_job_def("ingest_reviews").execute_in_process(
        partition_key=sys.argv[1], instance=instance, raise_on_error=False
    )
print("SUCCESS" if result.success else "FAILED")
"""


def start_ingest(settings: Settings, partition: str, home: Path) -> subprocess.Popen:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.as_env()}
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, partition, str(DATASETS_DIR), str(home)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wrote_data_files(settings: Settings) -> bool:
    """True once the ingest has started uploading data files (it is mid-write)."""
    store = ObjectStore.from_settings(settings)
    return any(
        "/data/" in info.key for info in store.list("warehouse/raw/reviews/", recursive=True)
    )


def exact(settings: Settings) -> dict[str, int]:
    lake = Lakehouse(open_catalog(settings))
    return {layer: lake.count(f"{layer}.reviews") for layer in LAYERS}


def ingest_mid_write(settings: Settings, home: Path, seed: int) -> subprocess.Popen:
    """Upload a large CSV and start its ingest; return once data files are being written."""
    store = ObjectStore.from_settings(settings)
    data = encode(generate_reviews(ROWS, seed=seed), "big.csv")
    store.put_bytes(f"{settings.landing_prefix}reviews/big.csv", data)
    run = start_ingest(settings, "big.csv", home)
    wait_until(lambda: wrote_data_files(settings), timeout=120, interval=0.05, what="mid-write")
    return run


def recovers_exactly(settings: Settings, home: Path) -> None:
    """Every table reads, nothing partial; running the partition again gives exact rows."""
    counts_after_crash = exact(settings)
    assert all(n in (0, ROWS) for n in counts_after_crash.values()), counts_after_crash
    again = start_ingest(settings, "big.csv", home)
    assert "SUCCESS" in again.communicate(timeout=300)[0]
    assert exact(settings) == dict.fromkeys(LAYERS, ROWS)


def test_store_killed_mid_write_then_restarted(own_stack, tmp_path):
    stack, settings = own_stack
    run = ingest_mid_write(settings, tmp_path / "dagster", seed=3)
    pid = stack.state().pid
    os.kill(pid, signal.SIGKILL)  # the store dies while files are written
    run.wait(timeout=300)
    wait_until(lambda: not pid_alive(pid), timeout=30, what="the store gone")
    state = stack.up()  # `data-platform stack up`: same data and keys (the same ports if free)
    settings = make_settings(state, settings.home, "lake")
    store = ObjectStore.from_settings(settings)
    store.stat(f"{settings.landing_prefix}reviews/big.csv")  # the upload is still in landing
    recovers_exactly(settings, tmp_path / "dagster")


def test_run_worker_killed_mid_commit(own_stack, tmp_path):
    _, settings = own_stack
    run = ingest_mid_write(settings, tmp_path / "dagster", seed=4)
    time.sleep(0.3)  # into the commits
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    recovers_exactly(settings, tmp_path / "dagster")
