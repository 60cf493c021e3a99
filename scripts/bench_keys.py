"""The contract's key across uploads, measured against like-for-like bare work (#29).

One run prints a PASS/FAIL line per target, ratios side by side:

- upsert: an upload of `--changed` rows (keys spread at random over the table) upserted
  into an `upsert` dataset whose staged table holds `--rows` rows, through the platform's
  ingest (`IngestRun`: the upload parsed and validated, the keys it replaces found, the
  staged and transformed rows rewritten, raw and the history written), against the bare
  copy-on-write floor: GET the same upload and parse it with the contract's types, read
  the table with polars (`scan_iceberg`), anti-join the changed keys, append the new rows,
  write one Parquet file to the same bucket. Interleaved, median of `--repeats`. Target
  <= 1.5x; the same line for each size in `--sizes` shows how the cost grows.
- pit-join: a point-in-time join of `--events` events against the history of as many keys
  (three versions each), `point_in_time_join`, against polars' `join_asof` on the same
  frames in memory (both sort what they need). Target <= 1.5x.
- append-key: appending an upload of `--append-rows` new rows (keys after the table's, as
  ids and times grow) to a table of `--append-table` rows with the table-wide key check
  (`duplicates: refuse`) against the same append without it (`duplicates: allow`).
  Interleaved. Target <= 1.2x.

It runs its own embedded S3 server and catalog in a temporary folder.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from data_platform.contracts import parse_contract
from data_platform.contracts.columns import VALID_FROM
from data_platform.history import point_in_time_join
from data_platform.ingest.run import IngestRun
from data_platform.lakehouse import open_lakehouse
from data_platform.lakehouse.tables import TABLE_PROPERTIES, parquet_options
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

ITEMS = """name: {name}
key: [item_id]
mode: {mode}
{extra}
columns:
  item_id: {{type: integer}}
  price: {{type: float, min: 0}}
  stock: {{type: integer, min: 0}}
  name: {{type: string}}
"""
LAYERS = {"raw", "staged", "transformed"}
# polars plans Iceberg scans with pyiceberg here (its own planner is another package)
os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")


def verdict(name: str, ratio: float, limit: float, detail: str) -> bool:
    ok = ratio <= limit
    print(f"{'PASS' if ok else 'FAIL'} {name}: {ratio:.2f} <= {limit} ({detail})")
    return ok


def items(ids: np.ndarray, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "item_id": ids,
            "price": rng.uniform(1, 100, len(ids)).round(2),
            "stock": rng.integers(0, 500, len(ids)),
            "name": [f"item {i}" for i in ids],
        }
    )


def csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


class Keyed:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ObjectStore.from_settings(settings)
        self.lake = open_lakehouse(settings)
        self.storage = {  # polars' own S3 reader (object_store)
            "aws_endpoint_url": settings.endpoint,
            "aws_access_key_id": settings.access_key,
            "aws_secret_access_key": settings.secret_key,
            "aws_region": settings.s3_region,
            "aws_allow_http": str(not settings.secure).lower(),
        }

    def contract(self, name: str, mode: str, extra: str = ""):
        return parse_contract(ITEMS.format(name=name, mode=mode, extra=extra), f"{name}.yaml")

    def ingest(self, contract, partition: str, data: bytes) -> float:
        self.store.put_bytes(f"{self.settings.landing_prefix}{contract.name}/{partition}", data)
        run = IngestRun(contract, [partition], self.settings, self.store, self.lake, lambda _: None)
        started = time.perf_counter()
        list(run.from_uploads(LAYERS))
        return time.perf_counter() - started

    def bare_upsert(self, contract, key: str, out: str) -> float:
        """GET and parse the upload, read the table, anti-join, append, write one file."""
        started = time.perf_counter()
        changed = pl.read_csv(self.store.get_bytes(key), schema_overrides=contract.dtypes)
        table = self.lake.load(contract.table("staged"))
        assert table is not None
        current = (
            pl.scan_iceberg(table, storage_options=self.storage)
            .select(list(contract.columns))
            .collect()
        )
        merged = pl.concat([current.join(changed, on="item_id", how="anti"), changed])
        buffer = io.BytesIO()
        merged.write_parquet(buffer, **parquet_options(TABLE_PROPERTIES))
        self.store.put_bytes(out, buffer.getvalue())
        return time.perf_counter() - started


def upsert(bench: Keyed, size: int, changed: int, repeats: int) -> bool:
    name = f"items_{size}"
    contract = bench.contract(name, "upsert")
    base = items(np.arange(size), seed=0)
    seconds = bench.ingest(contract, "base.csv", csv(base))
    print(f"  {name}: {size:,} rows ingested in {seconds:.1f} s")
    rng = np.random.default_rng(1)
    platform, bare = [], []
    for i in range(repeats + 1):
        keys = np.sort(rng.choice(size, changed, replace=False))
        body = csv(items(keys, seed=100 + i))
        bare_key = f"bare/{name}/changes-{i}.csv"
        bench.store.put_bytes(bare_key, body)
        t_bare = bench.bare_upsert(contract, bare_key, f"bare/{name}/table-{i}.parquet")
        t_platform = bench.ingest(contract, f"changes-{i}.csv", body)
        if i:  # the first of each is a warm-up
            bare.append(t_bare)
            platform.append(t_platform)
    staged = bench.lake.read(contract.table("staged"), columns=("item_id",)).data
    assert staged.num_rows == size, f"staged holds {staged.num_rows:,} rows, not {size:,}"
    p, b = statistics.median(platform), statistics.median(bare)
    print(
        f"  platform {' '.join(f'{t:.2f}' for t in platform)}  "
        f"bare {' '.join(f'{t:.2f}' for t in bare)}"
    )
    return verdict(
        f"upsert-{size // 1_000_000}M" if size >= 1_000_000 else f"upsert-{size:,}",
        p / b,
        1.5,
        f"{changed:,} changed rows into {size:,}: platform {p:.2f} s vs bare copy-on-write "
        f"{b:.2f} s; staged {size:,} rows after",
    )


def pit_join(events: int, repeats: int) -> bool:
    rng = np.random.default_rng(2)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    keys = np.arange(events)
    versions = pl.DataFrame(
        {
            "item_id": np.repeat(keys, 3),
            VALID_FROM: [
                start + timedelta(hours=int(h)) for h in rng.integers(0, 10_000, 3 * events)
            ],
            "price": rng.uniform(1, 100, 3 * events),
        },
        schema_overrides={VALID_FROM: pl.Datetime("us", "UTC")},
    ).unique(subset=["item_id", VALID_FROM])
    frame = pl.DataFrame(
        {
            "item_id": rng.integers(0, events, events),
            "seen_at": [start + timedelta(hours=int(h)) for h in rng.integers(0, 10_000, events)],
        },
        schema_overrides={"seen_at": pl.Datetime("us", "UTC")},
    )
    ours, polars_ = [], []
    for i in range(repeats + 1):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sortedness of columns cannot be checked")
            baseline = frame.sort("seen_at").join_asof(
                versions.sort(VALID_FROM), left_on="seen_at", right_on=VALID_FROM, by="item_id"
            )
        t_polars = time.perf_counter() - t
        t = time.perf_counter()
        joined = point_in_time_join(frame, versions, on=["item_id"], at="seen_at")
        t_ours = time.perf_counter() - t
        if i:
            polars_.append(t_polars)
            ours.append(t_ours)
    assert joined.height == baseline.height == events
    o, p = statistics.median(ours), statistics.median(polars_)
    return verdict(
        "pit-join",
        o / p,
        1.5,
        f"{events:,} events x {versions.height:,} versions of {events:,} keys: "
        f"{o:.3f} s vs polars join_asof {p:.3f} s",
    )


def append_key(bench: Keyed, table_rows: int, rows: int, repeats: int) -> bool:
    checked = bench.contract("ledger", "append")
    unchecked = bench.contract("ledger_free", "append", "duplicates: allow")
    chunk = 1_000_000
    for contract in (checked, unchecked):
        for start in range(0, table_rows, chunk):
            ids = np.arange(start, min(start + chunk, table_rows))
            bench.ingest(contract, f"base-{start:09d}.csv", csv(items(ids, seed=start)))
    print(f"  two tables of {table_rows:,} rows built")
    with_check, without = [], []
    for i in range(repeats + 1):
        ids = np.arange(table_rows + i * rows, table_rows + (i + 1) * rows)
        body = csv(items(ids, seed=10_000 + i))
        t_free = bench.ingest(unchecked, f"new-{i}.csv", body)
        t_checked = bench.ingest(checked, f"new-{i}.csv", body)
        if i:
            without.append(t_free)
            with_check.append(t_checked)
    c, f = statistics.median(with_check), statistics.median(without)
    return verdict(
        "append-key",
        c / f,
        1.2,
        f"{rows:,} new rows into {table_rows:,}: with the table-wide key check {c:.2f} s, "
        f"without {f:.2f} s",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000", help="table rows for upsert, comma-separated")
    parser.add_argument("--changed", type=int, default=10_000, help="changed rows per upsert")
    parser.add_argument("--events", type=int, default=1_000_000, help="events (and keys) to join")
    parser.add_argument("--append-table", type=int, default=10_000_000, help="rows in the table")
    parser.add_argument("--append-rows", type=int, default=100_000, help="rows appended")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    parser.add_argument(
        "--only", default="upsert,pit-join,append-key", help="which lines, comma-separated"
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
        with temporary_lake(Path(tmp)) as settings:
            bench = Keyed(settings)
            only = set(args.only.split(","))
            if "upsert" in only:
                print("== upsert")
                for size in (int(s) for s in args.sizes.split(",")):
                    results.append(upsert(bench, size, args.changed, args.repeats))
            if "pit-join" in only:
                print("== pit-join")
                results.append(pit_join(args.events, args.repeats))
            if "append-key" in only:
                print("== append-key")
                results.append(append_key(bench, args.append_table, args.append_rows, args.repeats))
    print(f"{sum(results)}/{len(results)} targets met")


if __name__ == "__main__":
    main()
