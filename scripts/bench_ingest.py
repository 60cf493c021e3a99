"""Ingestion measured against a like-for-like bare pipeline, and as the lake grows.

One run prints a PASS/FAIL line per target, ratios side by side:

- end-to-end: one CSV upload of the sample reviews through the platform's ingest job (raw,
  staged and transformed committed, checks, archive) vs the bare equivalent of the same
  work on the same object in the same bucket: read it (minio), parse it with the contract's
  types (polars), validate it with the same Pandera schema (the contract's, uniqueness
  included), write one Parquet file back encoded as the lake's tables are (codec, level,
  row groups). Both warmed up, interleaved, median of `--repeats`. Target <= 2.0x. Also
  printed, not a target: the CPU seconds of each side (this process and the S3 server),
  steadier than wall time on a shared machine, and, with `--layer-costs`, what writing the
  raw and the transformed table adds to the platform's run (that table's data file not
  written, interleaved with full runs: the marginal cost of the layer).
- re-run: materialising the same, unchanged partition again: rows unchanged, <= 1.1x.
- memory: peak RSS of the ingest job (a fresh process) on a large CSV; <= 1.5 GB, and the
  largest size within 1.2x of the smallest (`--memory-gb 0.5,5` for the README's figure).
- growth: `--uploads` small uploads (500 rows) one after another into one dataset's tables;
  the last 7 are interleaved with uploads 3-9 into a second, fresh dataset, so both sides
  of the ratio run at the same time, under the same load on the shared machine and the
  Dagster instance's disk. Both are the sample's contract under names of their own, with
  no other uploads in their tables. The median around the last is within 1.3x of the
  median around the 5th.
- sensor: `--sensor-objects` uploads pending in landing, where the sensor looks (a backlog:
  arrived faster than they are ingested, none ingested yet). The first tick, which sees
  them all as new, and the ticks after it, which see them all still pending and nothing
  new: each within 1 s, every cursor within 64 KB, and the runs one tick asks for bounded
  (at most `MAX_RUNS_PER_TICK`, whatever the backlog). Then one new upload among them is
  asked for by the next tick. The tick is the sensor's function only: the Dagster
  daemon's work on the runs it asks for (creating each run) comes on top.

- feed: through the real daemon (`dagster dev`, as `make dev` starts it, default settings,
  on a throwaway stack of its own): `--feed-latency` single uploads to an idle dataset, each
  timed from its PUT until it is published (in the archive: raw, staged and transformed
  committed first); then `--feed-uploads` uploads of 50 rows PUT in a burst, timed from the
  last PUT until every one is published, and their rows read back from raw, staged and
  transformed (each review_id exactly once). The bare cost of the same rows (read the
  files, parse them with the contract's types, write one Parquet file) is printed beside it.

It runs its own embedded S3 server and Dagster instance in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import polars as pl
import psutil
from pyiceberg.expressions import EqualTo

from data_platform.contracts import Contract, load_dataset
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.landing import pending_uploads
from data_platform.ingest.staged_schema import staged_schema
from data_platform.lakehouse import PartitionWriter, open_lakehouse
from data_platform.lakehouse.tables import TABLE_PROPERTIES, parquet_options
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import QUIET
from data_platform.ops.stack.seaweed import EmbeddedS3
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform.synthetic import generate_reviews

REPO = Path(__file__).resolve().parents[1]
# the sample reviews write ISO 8601 with an offset; chrono's `%+` reads that twice as fast as
# the spelled-out "%Y-%m-%dT%H:%M:%S%.f%z"
ISO_WITH_OFFSET = "%+"
DATASET = "reviews"
# the datasets of `growth` (the sample's contract under other names: tables of their own):
# the one that grows, and the fresh one its last uploads are compared with
GROWN, FRESH = "reviews_grown", "reviews_fresh"
SAMPLE = 7  # timed uploads on each side of `growth`
PUT_THREADS = 10  # the store's urllib3 pool keeps 10 connections: more threads open and drop more
CURSOR_LIMIT = 65_536
# through the daemon each run is a fresh process (about 5 s a small upload on 2 cores): one run
# per pending upload turns a 10,000-upload backlog into 10,000 runs, so a tick must ask for
# batches, a bounded number of runs whatever the backlog
MAX_RUNS_PER_TICK = 100


def verdict(name: str, ratio: float, limit: float, detail: str, *, at_most: bool = True) -> bool:
    ok = ratio <= limit if at_most else ratio >= limit
    sign = "<=" if at_most else ">="
    print(f"{'PASS' if ok else 'FAIL'} {name}: {ratio:.2f} {sign} {limit} ({detail})")
    return ok


class Bench:
    """One embedded S3 server, one Dagster instance, the platform's definitions."""

    def __init__(
        self, settings: Settings, instance: dg.DagsterInstance, server: psutil.Process
    ) -> None:
        self.settings = settings
        self.instance = instance
        self.processes = {"process": psutil.Process(), "S3 server": server}
        self.contract: Contract = load_dataset(REPO / "datasets", DATASET)
        # `growth` has tables of its own, holding only its small uploads (the end-to-end and
        # memory steps put their large ones in `reviews`)
        others = [self.contract.model_copy(update={"name": n}) for n in (GROWN, FRESH)]
        self.defs = build_definitions(
            SettingsResource.from_settings(settings), contracts=[self.contract, *others]
        )

        self.store = ObjectStore.from_settings(settings)
        self.next_id = 0

    def fresh_ids(self, rows: int) -> int:
        """The first of `rows` review ids no earlier upload used: a dataset's key is unique
        across uploads (mode append), so every upload here brings rows of its own."""
        first, self.next_id = self.next_id, self.next_id + rows
        return first

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by this process and by the S3 server."""
        return {name: sum(p.cpu_times()[:2]) for name, p in self.processes.items()}

    def put(self, partition: str, data: bytes, dataset: str = DATASET) -> None:
        self.store.put_bytes(f"{self.settings.landing_prefix}{dataset}/{partition}", data)

    def ingest(self, partition: str, dataset: str = DATASET, *, profiled: bool = True) -> float:
        """The ingest job of `dataset` on one partition, in process; seconds."""
        self.instance.add_dynamic_partitions(f"{dataset}_uploads", [partition])
        job = self.defs.resolve_job_def(f"ingest_{dataset}")
        # a run reads its settings when it starts: DP_INGEST_PROFILES=false, no profile of
        # the upload and no drift check (`profile-overhead`)
        os.environ["DP_INGEST_PROFILES"] = str(profiled).lower()
        try:
            started = time.perf_counter()
            result = job.execute_in_process(
                partition_key=partition,
                instance=self.instance,
                raise_on_error=False,
                run_config=QUIET,
            )
            elapsed = time.perf_counter() - started
        finally:
            del os.environ["DP_INGEST_PROFILES"]
        if not result.success:
            raise RuntimeError(f"ingest of {partition} failed")
        return elapsed

    def bare(self, key: str, out: str) -> float:
        """Read, parse with the contract's types, validate with the same schema, write."""
        client, bucket = self.store.client, self.store.bucket
        schema = staged_schema(self.contract)
        started = time.perf_counter()
        response = client.get_object(bucket, key)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        frame = read_typed(data, self.contract)
        schema.validate(frame, lazy=True)
        buffer = io.BytesIO()
        # encoded as the lake's tables are: the same codec, level and row groups
        frame.write_parquet(buffer, **parquet_options(TABLE_PROPERTIES))
        client.put_object(bucket, out, io.BytesIO(buffer.getvalue()), buffer.tell())
        return time.perf_counter() - started


def read_typed(data: bytes, contract: Contract) -> pl.DataFrame:
    """The CSV in the contract's types, the fastest bare way: polars' reader types every
    column but the datetimes, which are read as text and parsed as one vectorised call
    (twice as fast as letting the CSV reader parse them), with the fastest format that reads
    the sample's datetimes, known in advance (the platform detects it)."""
    dtypes = contract.dtypes
    datetimes = [n for n, c in contract.columns.items() if c.type == "datetime"]
    text = {n: pl.String if n in datetimes else t for n, t in dtypes.items()}
    return pl.read_csv(data, schema=text).with_columns(
        pl.col(n)
        .str.to_datetime(ISO_WITH_OFFSET, time_unit="us")
        .dt.convert_time_zone("UTC")
        .cast(dtypes[n])
        for n in datetimes
    )


class Side:
    """One side of `end-to-end`: its wall times and CPU seconds, run by run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds: list[float] = []
        self.cpu: dict[str, list[float]] = {}

    def timed(self, bench: Bench, run: Callable[..., float], *args: str) -> None:
        before = bench.cpu()
        self.seconds.append(run(*args))
        for name, spent in bench.cpu().items():
            self.cpu.setdefault(name, []).append(spent - before[name])

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def cpu_median(self) -> float:
        return statistics.median(map(sum, zip(*self.cpu.values(), strict=True)))

    def line(self) -> str:
        runs = " ".join(f"{t:.2f}" for t in self.seconds)
        return f"  {self.name:<14} {runs}  median {self.median:.2f} s"

    def cpu_line(self) -> str:
        parts = ", ".join(f"{n} {statistics.median(v):.2f}" for n, v in self.cpu.items())
        return f"{self.name} {self.cpu_median():.2f} CPU-s ({parts})"


def end_to_end(bench: Bench, rows: int, repeats: int, layer_costs: bool) -> list[bool]:
    def upload() -> bytes:  # the same rows but for their ids (each upload's keys its own)
        return encode(generate_reviews(rows, seed=0, start_id=bench.fresh_ids(rows)), "x.csv")

    data = upload()
    print(f"upload: {rows:,} rows, {len(data) / 1e6:.0f} MB CSV")
    key = "bench/source.csv"  # the bare pipeline's input: not an upload, not in landing
    bench.store.put_bytes(key, data)
    bench.bare(key, "bench/warm.parquet")
    bench.put("e2e/warm.csv", upload())
    bench.ingest("e2e/warm.csv")
    bare, platform, rerun = Side("bare"), Side("platform"), Side("re-run")
    unprofiled = Side("no profile")
    without = {
        layer: Side(f"no {layer}") for layer in (("raw", "transformed") if layer_costs else ())
    }
    lake = open_lakehouse(bench.settings)
    for i in range(repeats):
        bare.timed(bench, bench.bare, key, f"bench/bare-{i}.parquet")
        partition = f"e2e/run-{i}.csv"
        bench.put(partition, upload())
        platform.timed(bench, bench.ingest, partition)
        before = lake.count(bench.contract.table("staged"))
        rerun.timed(bench, bench.ingest, partition)  # unchanged: from the archive
        if lake.count(bench.contract.table("staged")) != before:
            raise RuntimeError("a re-run changed the row count")
        profiled = partition
        partition = f"e2e/unprofiled-{i}.csv"
        bench.put(partition, upload())
        unprofiled.timed(bench, lambda p: bench.ingest(p, profiled=False), partition)
        profiles = bench.contract.table("profiles")
        columns = len(bench.contract.columns)
        if (
            lake.count(profiles, EqualTo(SOURCE_KEY, profiled)),
            lake.count(profiles, EqualTo(SOURCE_KEY, partition)),
        ) != (columns, 0):
            raise RuntimeError("the profiled run wrote no profile, or the other one did")
        for layer, side in without.items():
            partition = f"e2e/no-{layer}-{i}.csv"
            bench.put(partition, upload())
            with data_file_not_written(bench.contract.table(layer)):
                side.timed(bench, bench.ingest, partition)
    for side in (bare, platform, rerun, unprofiled, *without.values()):
        print(side.line())
    b, p, r, u = bare.median, platform.median, rerun.median, unprofiled.median
    print(
        f"  cpu: {platform.cpu_line()} vs {bare.cpu_line()}: "
        f"{platform.cpu_median() / bare.cpu_median():.2f}x (not a target)"
    )
    for layer, side in without.items():
        print(
            f"  the {layer} table's write adds {p - side.median:.2f} s and "
            f"{platform.cpu_median() - side.cpu_median():.2f} CPU-s to the platform's run"
        )
    return [
        verdict("end-to-end", p / b, 2.0, f"platform {p:.2f} s vs bare {b:.2f} s, {rows:,} rows"),
        verdict("re-run", r / p, 1.1, f"{r:.2f} s vs first run {p:.2f} s, rows unchanged"),
        verdict(
            "profile-overhead",
            p / u,
            1.15,
            f"profiled and drift-checked {p:.2f} s vs not {u:.2f} s, {rows:,} rows; CPU "
            f"{platform.cpu_median():.2f} vs {unprofiled.cpu_median():.2f} CPU-s",
        ),
    ]


@contextlib.contextmanager
def data_file_not_written(table: str) -> Iterator[None]:
    """Runs in which `table`'s partition gets no data file (a measurement only: the layer's
    encode and upload are skipped, its commit then has nothing to add)."""
    add = PartitionWriter.add

    def skip(writer: PartitionWriter, data: pl.DataFrame) -> None:
        if writer.table != table:
            add(writer, data)

    PartitionWriter.add = skip  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        PartitionWriter.add = add  # type: ignore[method-assign]


def peak_rss_of_ingest(settings: Settings, partition: str) -> int:
    """Peak RSS (bytes) of a fresh process running the ingest job on `partition`.

    The process's own high-water mark (`PeakRSS`, VmHWM reset before the job): a child's
    `ru_maxrss` also counts the parent's resident set at the fork, so after the 1M-row
    end-to-end runs it read 1.50 GB for an ingest whose own peak was about 1.0 GB.
    """
    code = f"""
import dagster as dg, sys
from pathlib import Path
from data_platform.contracts import load_dataset
from data_platform.benchmarks.memory import PeakRSS
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.ops.runner import QUIET
from data_platform.settings import Settings
settings = Settings()  # from the DP_* variables the parent passes
contract = load_dataset(Path({str(REPO / "datasets")!r}), "{DATASET}")
defs = build_definitions(SettingsResource.from_settings(settings), contracts=[contract])
with dg.instance_for_test() as instance, PeakRSS() as peak:
    instance.add_dynamic_partitions("{DATASET}_uploads", [{partition!r}])
    job = defs.resolve_job_def("ingest_{DATASET}")
    assert job.execute_in_process(
        partition_key={partition!r}, instance=instance, run_config=QUIET
    ).success
print(peak.baseline_bytes + peak.peak_bytes)
"""
    env = {**os.environ, **settings.as_env(), "DP_DATASETS_DIR": str(settings.datasets_dir)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return int(done.stdout.strip().splitlines()[-1])


def write_csv_of_size(path: Path, gigabytes: float, first_id: int) -> int:
    """A CSV of about `gigabytes` of sample reviews, written in chunks; its row count."""
    rows = 0
    with path.open("wb") as out:
        chunk = 500_000
        while out.tell() < gigabytes * 1e9:
            frame = generate_reviews(chunk, seed=rows, start_id=first_id + rows)
            frame.write_csv(out, include_header=rows == 0)
            rows += chunk
    return rows


def memory(bench: Bench, sizes: list[float], scratch: Path) -> list[bool]:
    peaks = {}
    for gigabytes in sizes:
        path = scratch / f"upload-{gigabytes}.csv"
        rows = write_csv_of_size(path, gigabytes, bench.fresh_ids(0) + 10**8 * (len(peaks) + 1))
        partition = f"memory/{gigabytes}gb.csv"
        bench.store.put_file(f"{bench.settings.landing_prefix}{DATASET}/{partition}", path)
        path.unlink()
        peaks[gigabytes] = peak_rss_of_ingest(bench.settings, partition)
        print(f"  {gigabytes} GB CSV ({rows:,} rows): peak RSS {peaks[gigabytes] / 1e9:.2f} GB")
    largest = max(peaks.values())
    smallest, biggest = min(sizes), max(sizes)
    return [
        verdict("memory", largest / 1.5e9, 1.0, f"peak {largest / 1e9:.2f} GB of 1.5 GB"),
        verdict(
            "memory-growth",
            peaks[biggest] / peaks[smallest],
            1.2,
            f"{biggest} GB upload vs {smallest} GB upload",
        ),
    ]


def growth(bench: Bench, uploads: int) -> list[bool]:
    def upload(dataset: str, i: int) -> float:
        partition = f"growth/{i:05d}.csv"
        data = encode(generate_reviews(500, seed=1, start_id=bench.fresh_ids(500)), "x.csv")
        bench.put(partition, data, dataset)
        return bench.ingest(partition, dataset)

    times: list[float] = []
    for i in range(uploads - SAMPLE):
        times.append(upload(GROWN, i))
        if (i + 1) % 100 == 0:
            print(f"  upload {i + 1}: median of the last 10 {statistics.median(times[-10:]):.3f} s")
    for i in range(2):  # the fresh table's uploads 1-2: not timed
        upload(FRESH, i)
    early, late = [], []
    for i in range(SAMPLE):  # interleaved: the fresh table's uploads 3-9, the big one's last 7
        early.append(upload(FRESH, i + 2))
        late.append(upload(GROWN, uploads - SAMPLE + i))
    e, la = statistics.median(early), statistics.median(late)
    for label, sample, median in (
        ("uploads 3-9 of a fresh table", early, e),
        (f"uploads {uploads - SAMPLE + 1}-{uploads}", late, la),
    ):
        print(f"  {label} {' '.join(f'{t:.3f}' for t in sample)}  median {median:.3f} s")
    return [
        verdict(
            "growth",
            la / e,
            1.3,
            f"upload {uploads}: {la:.3f} s vs upload 5: {e:.3f} s, interleaved",
        )
    ]


def put_pending(bench: Bench, keys: list[str], data: bytes) -> float:
    """`keys` put in parallel (the store's connection pool holds 10); seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(PUT_THREADS) as pool:
        list(pool.map(lambda k: bench.store.put_bytes(k, data), keys))
    return time.perf_counter() - started


def _covered(request: dg.RunRequest, added: list[str]) -> list[str]:
    """The partitions a run request covers: its own, or its range of the keys added."""
    if request.partition_key is not None:
        return [request.partition_key]
    span = request.partition_key_range
    assert span is not None
    return added[added.index(span.start) : added.index(span.end) + 1]


def sensor(bench: Bench, objects: int) -> list[bool]:
    landing = f"{bench.settings.landing_prefix}{DATASET}/"
    upload = b"review_id\n1\n"
    keys = [f"{landing}backlog/{i // 1000:03d}/{i:06d}.csv" for i in range(objects)]
    seconds = put_pending(bench, keys, upload)
    pending = len(pending_uploads(bench.store, landing))
    print(
        f"  {objects:,} uploads put in landing in {seconds:.1f} s "
        f"({objects / seconds:,.0f}/s, {PUT_THREADS} parallel PUTs); {pending:,} pending there"
    )
    tick = bench.defs.resolve_sensor_def(f"{DATASET}_landing_sensor")
    resources = {"store": (bench.defs.resources or {})["store"]}

    added: list[str] = []  # the partition keys the last tick added, in order

    def run(cursor: str | None) -> tuple[float, list[dg.RunRequest], str | None]:
        with dg.build_sensor_context(
            instance=bench.instance, cursor=cursor, resources=resources
        ) as context:
            started = time.perf_counter()
            result = tick(context)
            elapsed = time.perf_counter() - started
            if isinstance(result, dg.SensorResult):  # a cursor returned, not set on the context
                requests, cursor = list(result.run_requests or []), result.cursor or cursor
                added[:] = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
                return elapsed, requests, cursor
            return elapsed, [], context.cursor

    first, backlog_runs, cursor = run(None)
    asked = {p for r in backlog_runs for p in _covered(r, added)}
    first_batch = _covered(backlog_runs[0], added) if backlog_runs else []
    cursors = [len((cursor or "").encode())]
    idle, idle_runs = [], []
    for _ in range(3):  # all still pending (none ingested), nothing new
        elapsed, requests, cursor = run(cursor)
        idle.append(elapsed)
        idle_runs.append(len(requests))
        cursors.append(len((cursor or "").encode()))
    print(
        f"  first tick {first * 1000:,.0f} ms, {len(backlog_runs):,} runs asked for; ticks "
        f"after it {' '.join(f'{t * 1000:,.0f}' for t in idle)} ms, "
        f"{' '.join(f'{r:,}' for r in idle_runs)} runs asked for; cursors "
        f"{' '.join(f'{c:,}' for c in cursors)} bytes"
    )
    # the first batch is ingested (its uploads leave landing): the next tick asks for as many
    # again, the next oldest, none asked for before
    with ThreadPoolExecutor(PUT_THREADS) as pool:
        list(pool.map(lambda p: bench.store.delete(landing + p), first_batch))
    _, found, _ = run(cursor)
    following = [p for r in found for p in _covered(r, added)]
    # the batch's room goes to uploads not asked for yet (none left when all fit at first)
    expected = min(len(first_batch), pending - len(asked))
    drains = len(following) == expected and not set(following) & asked
    print(
        f"  after a batch of {len(first_batch):,} left landing: {len(found):,} run(s) asked for "
        f"{len(following):,} more uploads (expected {expected:,}), "
        f"{len(set(following) & asked):,} of them asked before"
    )
    later = statistics.median(idle)
    worst = max(first, later)
    size = max(cursors)
    most = max(len(backlog_runs), *idle_runs)
    return [
        verdict(
            "backlog",
            worst / 1.0,
            1.0,
            f"tick {worst * 1000:,.0f} ms with {pending:,} pending, target <= 1 s; first tick "
            f"{first * 1000:,.0f} ms, later ones median {later * 1000:,.0f} ms",
        ),
        verdict(
            "backlog-cursor",
            size / CURSOR_LIMIT,
            1.0,
            f"cursor {size:,} bytes with {pending:,} pending, target <= 64 KB",
        ),
        verdict(
            "backlog-runs",
            most / MAX_RUNS_PER_TICK,
            1.0,
            f"{most:,} runs asked for in one tick with {pending:,} pending, "
            f"target <= {MAX_RUNS_PER_TICK} (bounded)",
        ),
        verdict(
            "backlog-drains",
            0.0 if drains else 1.0,
            0.0,
            f"a batch out of landing, the next tick asks for as many new ones, {pending:,} pending",
        ),
    ]


FEED_ROWS = 50


def feed(uploads: int, latency_samples: int) -> list[bool]:
    """Uploads published by the real daemon: latency of one, throughput of a burst."""
    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.ops.stack.dagster_dev import running_dagster_dev
    from data_platform.ops.stack.process import wait_until

    with tempfile.TemporaryDirectory(prefix="bench-feed-") as tmp:
        root = Path(tmp)
        with (
            temporary_lake(root, datasets_dir=REPO / "datasets") as settings,
            running_dagster_dev(root, settings, REPO),
        ):
            store = ObjectStore.from_settings(settings)
            landing = f"{settings.landing_prefix}{DATASET}/"
            archive = f"{settings.archive_prefix}{DATASET}/"
            print(f"  dagster dev up (sensor interval {settings.landing_sensor_interval_s} s)")

            def published(partition: str) -> bool:
                return store.exists(archive + partition)

            # latency: one upload at a time to an idle dataset (the first warms the daemon)
            waits = []
            for i in range(latency_samples + 1):
                data = encode(
                    generate_reviews(FEED_ROWS, seed=i, start_id=10**7 + i * 100), "x.csv"
                )
                partition = f"latency/{i:03d}.csv"
                store.put_bytes(landing + partition, data)
                put_at = time.perf_counter()
                wait_until(
                    lambda p=partition: published(p),
                    timeout=180,
                    interval=0.2,
                    what=f"{partition} published",
                )
                if i:
                    waits.append(time.perf_counter() - put_at)
            p50 = statistics.median(waits)
            print(f"  latency: {' '.join(f'{w:.1f}' for w in waits)} s, p50 {p50:.1f} s")

            # throughput: a burst
            generated = [
                generate_reviews(FEED_ROWS, seed=i, start_id=i * FEED_ROWS) for i in range(uploads)
            ]
            bodies = [encode(frame, "x.csv") for frame in generated]
            keys = [f"burst/{i // 100:03d}/{i:05d}.csv" for i in range(uploads)]
            started = time.perf_counter()
            with ThreadPoolExecutor(PUT_THREADS) as pool:
                list(
                    pool.map(
                        lambda i: store.put_bytes(landing + keys[i], bodies[i]), range(uploads)
                    )
                )
            last_put = time.perf_counter()
            print(f"  {uploads:,} uploads PUT in {last_put - started:.1f} s")

            def archived() -> int:
                return sum(1 for _ in store.list(archive + "burst/", recursive=True))

            done = 0
            deadline = last_put + 900
            while time.perf_counter() < deadline:
                done = archived()
                if done == uploads:
                    break
                time.sleep(1.0)
            seconds = time.perf_counter() - last_put
            per_minute = uploads / seconds * 60 if done == uploads else 0.0
            print(f"  {done:,}/{uploads:,} published {seconds:.1f} s after the last PUT")

            lake = Lakehouse(open_catalog(settings))
            expected = set(pl.concat([g["review_id"] for g in generated]).to_list())
            exact = []
            for layer in ("raw", "staged", "transformed"):
                table = lake.read(f"{layer}.{DATASET}", columns=("review_id", "_source_key")).data
                frame = pl.from_arrow(table)
                assert isinstance(frame, pl.DataFrame)
                ids = frame.filter(pl.col("_source_key").str.starts_with("burst/"))["review_id"]
                ok = ids.len() == len(expected) and set(ids.to_list()) == expected
                exact.append(ok)
                print(f"  {layer}: {ids.len():,} burst rows, each review_id once: {ok}")

            # the bare cost of the same rows: read the files, parse with the contract, one file
            contract = load_dataset(REPO / "datasets", DATASET)
            bare_started = time.perf_counter()
            frames = [read_typed(store.get_bytes(archive + k), contract) for k in keys]
            buffer = io.BytesIO()
            pl.concat(frames).write_parquet(buffer, **parquet_options(TABLE_PROPERTIES))
            store.put_bytes("bare/feed.parquet", buffer.getvalue())
            bare = time.perf_counter() - bare_started
            print(
                f"  bare: the same {uploads * FEED_ROWS:,} rows read, parsed, written "
                f"in {bare:.1f} s"
            )
    return [
        verdict(
            "feed",
            per_minute / 500,
            1.0,
            f"{uploads:,} uploads published in {seconds:.1f} s after the last PUT "
            f"({per_minute:,.0f}/min), target >= 500/min; bare pipeline {bare:.1f} s",
            at_most=False,
        ),
        verdict(
            "feed-rows",
            1.0 if all(exact) else 0.0,
            1.0,
            "raw, staged and transformed hold each burst row exactly once",
            at_most=False,
        ),
        verdict(
            "feed-latency",
            p50 / 20,
            1.0,
            f"p50 {p50:.1f} s from PUT to published over {len(waits)} uploads, target <= 20 s",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the upload")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    parser.add_argument(
        "--memory-gb", default="0.5,1.0", help="CSV sizes for the memory target ('' skips)"
    )
    parser.add_argument(
        "--layer-costs",
        action="store_true",
        help="also time runs without the raw, then the transformed data file: each layer's cost",
    )
    parser.add_argument("--uploads", type=int, default=500, help="uploads for growth (0 skips)")
    parser.add_argument(
        "--sensor-objects",
        type=int,
        default=10_000,
        help="uploads pending in landing for the sensor's ticks (0 skips)",
    )
    parser.add_argument(
        "--feed-uploads",
        type=int,
        default=1000,
        help="uploads in the burst through the real daemon (0 skips the feed)",
    )
    parser.add_argument(
        "--feed-latency", type=int, default=10, help="single uploads timed for the latency p50"
    )
    args = parser.parse_args()
    if args.uploads and args.uploads <= SAMPLE:
        parser.error(f"--uploads must be above {SAMPLE} (or 0 to skip growth)")

    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        with (
            temporary_lake(Path(tmp), datasets_dir=REPO / "datasets") as settings,
            dg.instance_for_test() as instance,
        ):
            stack = EmbeddedS3(Path(tmp) / "stack")  # where `temporary_lake` runs it
            server = psutil.Process(int(stack.pid_file.read_text()))
            bench = Bench(settings, instance, server)
            steps: list[tuple[str, Callable[[], list[bool]]]] = [
                (
                    "end-to-end",
                    lambda: end_to_end(bench, args.rows, args.repeats, args.layer_costs),
                )
            ]
            if args.memory_gb:
                sizes = [float(s) for s in args.memory_gb.split(",")]
                steps.append(("memory", lambda: memory(bench, sizes, Path(tmp))))
            if args.uploads:
                steps.append(("growth", lambda: growth(bench, args.uploads)))
            if args.sensor_objects:
                steps.append(("sensor", lambda: sensor(bench, args.sensor_objects)))
            for name, step in steps:
                print(f"== {name}")
                results += step()
    if args.feed_uploads:
        print("== feed")
        results += feed(args.feed_uploads, args.feed_latency)
    print(f"{sum(results)}/{len(results)} targets met")


if __name__ == "__main__":
    main()
