"""Concurrent writers: 8 processes x 10 partitions of one table, none fails, none is lost.

Each process overwrites its own partitions of the same Iceberg table at the same time,
through the SQLite catalog and through PostgreSQL. Every commit that loses a race is
re-done; every write reports the snapshot it committed itself. The 81 commits pass the
history bound, so old snapshots are expired by writers racing each other too.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import polars as pl
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.lakehouse.commit import CommitPolicy
from data_platform.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WRITERS, PARTITIONS, ROWS = 8, 10, 50


def write_partitions(settings: Settings, writer: int) -> list[tuple[str, int | None, int]]:
    """One writer process: overwrite its partitions; (partition, snapshot, rows) of each."""
    lake = Lakehouse(open_catalog(settings))
    done = []
    for i in range(PARTITIONS):
        key = f"w{writer}/p{i}.csv"
        frame = pl.DataFrame(
            {"_source_key": [key] * ROWS, "value": list(range(ROWS)), "writer": [writer] * ROWS}
        )
        result = lake.overwrite_partition(
            "bench.concurrent",
            frame.to_arrow(compat_level=pl.CompatLevel.oldest()),
            column="_source_key",
            value=key,
        )
        done.append((key, result.snapshot_id, result.rows_written))
    return done


def run_writers(settings: Settings) -> list[tuple[str, int | None, int]]:
    lake = Lakehouse(open_catalog(settings))
    seed = pl.DataFrame({"_source_key": ["seed"], "value": [0], "writer": [-1]})
    lake.overwrite_partition(  # the table exists before the race starts
        "bench.concurrent",
        seed.to_arrow(compat_level=pl.CompatLevel.oldest()),
        column="_source_key",
        value="seed",
    )
    # fresh processes, not forks of this one (its threads, its catalog connections), forked
    # from a server that has imported the lakehouse once: eight interpreters each importing
    # pyiceberg, pyarrow and polars cost ~45 s of CPU, more than the race itself on 2 cores
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [pool.submit(write_partitions, settings, w) for w in range(WRITERS)]
        return [row for future in futures for row in future.result()]  # raises on any failure


@pytest.mark.parametrize(
    "catalog", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_eight_concurrent_writers_all_commit_exactly(catalog, settings, request):
    # the SQLite case needs no PostgreSQL server: ask for it only in the other
    chosen = request.getfixturevalue("pg_settings") if catalog == "postgresql" else settings
    written = run_writers(chosen)
    assert len(written) == WRITERS * PARTITIONS
    lake = Lakehouse(open_catalog(chosen))
    frame = pl.from_arrow(lake.read("bench.concurrent").data)
    assert frame.height == WRITERS * PARTITIONS * ROWS + 1  # exact: nothing lost or doubled
    counts = frame.group_by("_source_key").len()
    assert counts.filter(pl.col("_source_key") != "seed")["len"].unique().to_list() == [ROWS]
    table = lake.load("bench.concurrent")
    reported = [snapshot_id for _, snapshot_id, _ in written]
    assert len(set(reported)) == len(reported)  # every write its own snapshot
    # the history bound (DP_KEEP_SNAPSHOTS) expires the oldest while the writers race; the
    # newest `keep` commits are still there and each is the commit of the write reporting it
    keep = CommitPolicy().keep_snapshots
    kept = [(key, table.metadata.snapshot_by_id(sid), rows) for key, sid, rows in written]
    found = [(key, snapshot, rows) for key, snapshot, rows in kept if snapshot is not None]
    assert len(found) >= min(len(written), keep - 1), (len(found), keep)
    for key, snapshot, rows in found:
        assert snapshot.summary is not None, key
        assert int(snapshot.summary["added-records"]) == rows  # its own commit, not another's
