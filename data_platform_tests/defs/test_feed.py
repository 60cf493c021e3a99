"""A feed through the real daemon (#28): bursts of uploads become batch runs, each upload
published or quarantined on its own, exactly once, also when a run worker dies mid-batch.

`dagster dev` runs with batches of at most `BATCH` uploads, so a burst is a backlog larger
than one batch. Rows are read back from the tables (each review_id exactly once), not
counted from manifests.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import polars as pl
import pytest

from data_platform.ingest.landing import Custody
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.demo.samples import encode
from data_platform.ops.stack.dagster_dev import DagsterDev
from data_platform.ops.stack.process import pid_alive, wait_until
from data_platform.ops.stack.seaweed import StackState
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform.synthetic import generate_reviews
from data_platform_tests.fixtures.dagster_dev import paced_dagster_dev

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BATCH = 10
ROWS = 20
LAYERS = ("raw", "staged", "transformed")
BAD = "burst/bad.csv"


@pytest.fixture(scope="module")
def feed_dev(
    s3_server: StackState, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterDev]:
    """`dagster dev` whose batches hold at most BATCH uploads."""
    root = tmp_path_factory.mktemp("feed-dev")
    with paced_dagster_dev(s3_server, root, {"DP_INGEST_BATCH_FILES": str(BATCH)}) as dev:
        yield dev


def put_burst(store: ObjectStore, settings: Settings, prefix: str, ids: range) -> list[str]:
    """One upload of ROWS reviews per number in `ids` (review ids unique across all)."""
    names = [f"{prefix}/{i:04d}.csv" for i in ids]

    def put(item: tuple[int, str]) -> None:
        i, name = item
        frame = generate_reviews(ROWS, seed=i, start_id=i * ROWS)
        store.put_bytes(f"{settings.landing_prefix}reviews/{name}", encode(frame, name))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, zip(ids, names, strict=True)))
    return names


def burst_ids(settings: Settings, layer: str, prefix: str) -> pl.Series:
    """The review ids of the good uploads under `prefix` in `layer` (raw also records the
    refused upload's readable rows, under its own key)."""
    table = Lakehouse(open_catalog(settings)).read(
        f"{layer}.reviews", columns=("review_id", "_source_key")
    )
    frame = pl.from_arrow(table.data)
    assert isinstance(frame, pl.DataFrame)
    key = pl.col("_source_key")
    return frame.filter(key.str.starts_with(prefix + "/") & (key != BAD))["review_id"]


def archived(store: ObjectStore, settings: Settings, prefix: str) -> int:
    return sum(1 for _ in store.list(f"{settings.archive_prefix}reviews/{prefix}/", recursive=True))


def exactly_once(settings: Settings, prefix: str, ids: list[int]) -> None:
    want = sorted(
        r for i in ids for r in generate_reviews(ROWS, seed=i, start_id=i * ROWS)["review_id"]
    )
    for layer in LAYERS:
        got = burst_ids(settings, layer, prefix).sort().to_list()
        assert got == want, f"{layer}: {len(got)} rows, want {len(want)} (each id once)"


def test_a_burst_with_a_bad_upload_publishes_every_good_one_once(feed_dev):
    """25 good uploads and one bad, PUT together: three batches at least (a backlog larger
    than one); the bad one is quarantined with its message, every good one published once;
    an upload that lands while a batch runs is picked up by a later one."""
    settings = feed_dev.settings
    store = ObjectStore.from_settings(settings)
    good = put_burst(store, settings, "burst", range(25))
    store.put_bytes(
        f"{settings.landing_prefix}reviews/burst/bad.csv",
        b"review_id,text,rating,category,price,created_at\n1,x,9,books,cheap,2026-01-01\n",
    )

    with dg.DagsterInstance.from_config(str(feed_dev.home)) as instance:

        def batch_started() -> bool:
            runs = instance.get_run_records(
                dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS])
            )
            return any("dagster/asset_partition_range_start" in r.dagster_run.tags for r in runs)

        wait_until(batch_started, timeout=120, interval=0.2, what="a batch run started")
        late = put_burst(store, settings, "burst", range(100, 101))  # while batches run
        wait_until(
            lambda: archived(store, settings, "burst") == len(good) + len(late),
            timeout=240,
            interval=1,
            what="every good upload archived",
        )
        runs = instance.get_run_records(dg.RunsFilter(tags={"data_platform/dataset": "reviews"}))
        ranges = [r for r in runs if "dagster/asset_partition_range_start" in r.dagster_run.tags]
        assert len(ranges) >= 2, "a burst of 26 with batches of 10 takes several batch runs"
        assert all(int(r.dagster_run.tags["data_platform/uploads"]) <= BATCH for r in ranges)
    wait_until(
        lambda: bool(Custody(store, settings).quarantined("reviews")),
        timeout=60,
        what="the bad upload quarantined",
    )
    [entry] = Custody(store, settings).quarantined("reviews")
    assert entry.partition == "burst/bad.csv"
    assert "column 'price'" in entry.error
    assert "'cheap'" in entry.error
    exactly_once(settings, "burst", [*range(25), 100])
    lake = Lakehouse(open_catalog(settings))
    for layer, rows in (("raw", 1), ("staged", 0), ("transformed", 0)):  # raw records it
        frame = pl.from_arrow(lake.read(f"{layer}.reviews", columns=("_source_key",)).data)
        assert isinstance(frame, pl.DataFrame)
        assert frame.filter(pl.col("_source_key") == BAD).height == rows, layer
    assert not list(store.list(f"{settings.landing_prefix}reviews/burst/", recursive=True))


def test_a_run_worker_killed_mid_batch_is_retried_and_each_upload_published_once(feed_dev):
    """SIGKILL to the worker of a batch run once it has committed raw: the code server
    reports the run failed, the daemon retries it (dagster.yaml: run_retries), and the retry
    ingests the batch again: every upload once, no duplicate rows."""
    settings = feed_dev.settings
    store = ObjectStore.from_settings(settings)
    names = put_burst(store, settings, "kill", range(200, 200 + BATCH))
    with dg.DagsterInstance.from_config(str(feed_dev.home)) as instance:
        worker: dict[str, int] = {}

        def committed_raw() -> bool:
            for record in instance.get_run_records(
                dg.RunsFilter(
                    tags={"data_platform/dataset": "reviews"},
                    statuses=[dg.DagsterRunStatus.STARTED],
                )
            ):
                run = record.dagster_run
                if not run.tags.get("dagster/asset_partition_range_start", "").startswith("kill/"):
                    continue
                logs = instance.all_logs(run.run_id)
                pids = [
                    e.dagster_event.pid
                    for e in logs
                    if e.dagster_event
                    and e.dagster_event.event_type == dg.DagsterEventType.STEP_START
                ]
                raw = [
                    e
                    for e in logs
                    if e.dagster_event
                    and e.dagster_event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                ]
                if pids and raw:
                    worker.update(run_id=run.run_id, pid=pids[0])  # type: ignore[arg-type]
                    return True
            return False

        wait_until(committed_raw, timeout=120, interval=0.05, what="a batch run committed raw")
        os.kill(worker["pid"], signal.SIGKILL)
        wait_until(lambda: not pid_alive(worker["pid"]), timeout=10, what="worker gone")
        wait_until(
            lambda: archived(store, settings, "kill") == len(names),
            timeout=240,
            interval=1,
            what="the batch published after the retry",
        )
        killed = instance.get_run_by_id(worker["run_id"])
        assert killed is not None
        assert killed.status == dg.DagsterRunStatus.FAILURE
        retries = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/parent_run_id": worker["run_id"]})
        )
        assert retries, "the daemon retried the killed run"
    exactly_once(settings, "kill", list(range(200, 200 + BATCH)))
