"""Crashes mid-ingest lose nothing: the store killed with -9, the run worker killed with -9.

Each test starts an ingest of a large upload, kills something with SIGKILL while it works,
brings things back, runs the partition again, and checks that every table reads exactly
the upload's rows (no partial commit, no duplicate, no missing or truncated data file).

Where the kill landed is observed, not guessed: the run's Dagster events up to the kill
(which tables it had recorded as committed, whether the run had ended) and the killed
process's exit status. A table the run recorded as committed must read the whole upload
right after the crash; any other table reads nothing or the whole upload.

Tables are read through `Lakehouse.digest`: every data file the snapshot names is opened
and the rows hashed (pyiceberg's `count` adds up the manifests and would pass a commit
whose data file is missing or truncated). The expected digest is computed from the
generated upload itself, here, independently of the code under test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.demo.samples import encode
from data_platform.ops.stack.process import pid_alive, wait_until
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform.synthetic import generate_reviews
from data_platform_tests.defs.helpers import DATASETS_DIR
from data_platform_tests.fixtures.s3 import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROWS = 600_000
LAYERS = ("raw", "staged", "transformed")
# columns every layer keeps as uploaded: hashing them opens every data file of a table
COLUMNS = ("review_id", "category", "created_at")
NOTHING = (0, f"{0:016x}")
ENDED = {dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE}

INGEST = """
import sys, dagster as dg
from pathlib import Path
from data_platform.contracts import load_dataset
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.settings import Settings
from data_platform_tests.fixtures.dagster import use_quick_ingest_retries
use_quick_ingest_retries()  # as many retries; against a dead store their delays only wait
import os, time
from data_platform.lakehouse.tables import PartitionWriter
pause = float(os.environ.get("SLOW_LATER_COMMITS_S", "0"))
if pause:  # staged and transformed commit that much later than raw: a kill between them lands
    commit = PartitionWriter.commit
    def slow(self, *args, **kwargs):
        if not self.table.startswith("raw."):
            time.sleep(pause)
        return commit(self, *args, **kwargs)
    PartitionWriter.commit = slow
settings = Settings()
contract = load_dataset(Path(sys.argv[2]), "reviews")
defs = build_definitions(SettingsResource.from_settings(settings), contracts=[contract])
with dg.DagsterInstance.from_config(sys.argv[3]) as instance:
    instance.add_dynamic_partitions("reviews_uploads", [sys.argv[1]])
    result = defs.resolve_job_def("ingest_reviews").execute_in_process(
        partition_key=sys.argv[1], instance=instance, raise_on_error=False
    )
print("SUCCESS" if result.success else "FAILED")
"""


@dataclass(frozen=True)
class Phase:
    """How far a run got: the layers it recorded as committed, and whether it ended."""

    committed: frozenset[str]
    ended: bool

    @classmethod
    def of(cls, instance: dg.DagsterInstance, run_id: str) -> Phase:
        committed, ended = set(), False
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            ended |= event.event_type in ENDED
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                assert event.asset_key is not None
                committed.add(event.asset_key.path[0])
        return cls(frozenset(committed), ended)


@dataclass
class Ingest:
    """An ingest of `big.csv` in a process of its own, with its Dagster instance at `home`."""

    process: subprocess.Popen
    home: Path
    log: Path

    @classmethod
    def start(
        cls, settings: Settings, home: Path, attempt: int, env: dict[str, str] | None = None
    ) -> Ingest:
        home.mkdir(parents=True, exist_ok=True)
        log = home / f"ingest-{attempt}.log"  # a file, not a pipe: a full pipe would stall it
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", INGEST, "big.csv", str(DATASETS_DIR), str(home)],
                env={**os.environ, **settings.as_env(), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process, home, log)

    def output(self) -> str:
        return self.log.read_text()

    def phase(self, instance: dg.DagsterInstance) -> Phase:
        """The phase of the newest run in the instance (this ingest's)."""
        (run,) = instance.get_runs(limit=1)
        return Phase.of(instance, run.run_id)


def upload(seed: int) -> pl.DataFrame:
    return generate_reviews(ROWS, seed=seed)


def expected(frame: pl.DataFrame) -> tuple[int, str]:
    """Rows and digest of the upload, summed here in Python (not by `Lakehouse.digest`)."""
    hashes = frame.select(COLUMNS).hash_rows(seed=0).to_list()
    return frame.height, f"{sum(hashes) % 2**64:016x}"


def read_layers(settings: Settings) -> dict[str, tuple[int, str]]:
    """Each layer's rows and digest, read from its data files (a broken file raises)."""
    lake = Lakehouse(open_catalog(settings))
    return {
        layer: lake.digest(f"{layer}.reviews", COLUMNS)
        if lake.load(f"{layer}.reviews") is not None
        else NOTHING
        for layer in LAYERS
    }


def wrote_data_files(settings: Settings) -> bool:
    """True once the ingest has started uploading data files (it is mid-write)."""
    store = ObjectStore.from_settings(settings)
    return any(
        "/data/" in info.key for info in store.list("warehouse/raw/reviews/", recursive=True)
    )


def ingest_mid_write(
    settings: Settings, home: Path, frame: pl.DataFrame, env: dict[str, str] | None = None
) -> Ingest:
    """Upload a large CSV and start its ingest; return once data files are being written."""
    store = ObjectStore.from_settings(settings)
    store.put_bytes(f"{settings.landing_prefix}reviews/big.csv", encode(frame, "big.csv"))
    run = Ingest.start(settings, home, attempt=1, env=env)
    wait_until(lambda: wrote_data_files(settings), timeout=120, interval=0.05, what="mid-write")
    return run


def recovers_exactly(settings: Settings, home: Path, phase: Phase, want: tuple[int, str]) -> None:
    """Nothing partial after the crash (what the run recorded as committed is whole); a
    second run of the partition gives every table exactly the upload's rows."""
    after_crash = read_layers(settings)
    for layer, read in after_crash.items():
        allowed = [want] if layer in phase.committed else [NOTHING, want]
        assert read in allowed, f"{layer} after a crash at {phase}: {after_crash}"
    again = Ingest.start(settings, home, attempt=2)
    assert again.process.wait(timeout=300) == 0, again.output()
    assert "SUCCESS" in again.output()
    assert read_layers(settings) == dict.fromkeys(LAYERS, want)


def test_store_killed_mid_write_then_restarted(own_stack, tmp_path):
    stack, settings = own_stack
    frame = upload(seed=3)
    home = tmp_path / "dagster"
    run = ingest_mid_write(settings, home, frame)
    pid = stack.state().pid
    os.kill(pid, signal.SIGKILL)  # the store dies while files are written
    # the run fails (its process ends normally), having committed some tables at most
    assert run.process.wait(timeout=300) == 0, run.output()
    assert "FAILED" in run.output()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        phase = run.phase(instance)
    assert phase.ended, phase
    assert phase.committed < set(LAYERS), f"the kill landed after every commit: {phase}"
    wait_until(lambda: not pid_alive(pid), timeout=30, what="the store gone")
    state = stack.up()  # `data-platform stack up`: same data and keys (the same ports if free)
    settings = make_settings(state, settings.home, "lake")
    store = ObjectStore.from_settings(settings)
    store.stat(f"{settings.landing_prefix}reviews/big.csv")  # the upload is still in landing
    recovers_exactly(settings, home, phase, expected(frame))


def test_run_worker_killed_mid_commit(own_stack, tmp_path):
    _, settings = own_stack
    frame = upload(seed=4)
    home = tmp_path / "dagster"
    # staged and transformed commit 3 s after raw (a slow catalog): the kill, at raw's
    # recorded commit, lands between them whatever the machine's load (without the pause,
    # on a busy machine the run could end before the signal arrived)
    run = ingest_mid_write(settings, home, frame, env={"SLOW_LATER_COMMITS_S": "3"})
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # kill as soon as the run records its first commit (raw), while staged and
        # transformed still commit and the upload is not yet archived
        wait_until(
            lambda: bool(run.phase(instance).committed) or run.process.poll() is not None,
            timeout=300,
            interval=0.01,
            what="the first commit recorded",
        )
        run.process.send_signal(signal.SIGKILL)
        assert run.process.wait(timeout=60) == -signal.SIGKILL, run.output()
        phase = run.phase(instance)
    assert "raw" in phase.committed, phase
    assert not phase.ended, f"the kill landed after the run ended: {phase}"
    recovers_exactly(settings, home, phase, expected(frame))
