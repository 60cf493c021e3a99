"""Ingest a 1M-row CSV upload through `raw`, side by side with the bare equivalent.

Bare: pyarrow reads the same CSV from the bucket and writes one Parquet file back to it.
Platform: the `raw/reviews` asset materialises that upload as an Iceberg partition.
Then the same partition again: the re-run must cost at most 1.2x and change no rows.

Targets: platform <= 1.5x bare; re-run <= 1.2x first run, row count unchanged.
Runs its own embedded S3 server in a temporary folder, so it touches no project state.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg
import pyarrow.csv as pv
import pyarrow.parquet as pq

from data_platform.datasets import get_dataset
from data_platform.defs.raw.assets import build_raw_asset
from data_platform.defs.resources import resources_for
from data_platform.demo.samples import encode
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.settings import Settings
from data_platform.stack.seaweed import EmbeddedS3
from data_platform.storage import ObjectStore


def bare_ingest(settings: Settings, key: str, out: str) -> float:
    fs = settings.pyarrow_filesystem()
    start = time.perf_counter()
    with fs.open_input_stream(f"{settings.bucket}/{key}") as stream:
        table = pv.read_csv(stream)
    pq.write_table(table, f"{settings.bucket}/{out}", filesystem=fs)
    return time.perf_counter() - start


def platform_ingest(settings: Settings, instance: dg.DagsterInstance, partition: str) -> float:
    asset = build_raw_asset(get_dataset("reviews"))
    start = time.perf_counter()
    result = dg.materialize(
        [asset], partition_key=partition, instance=instance, resources=resources_for(settings)
    )
    elapsed = time.perf_counter() - start
    assert result.success
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the CSV upload")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median taken)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        stack = EmbeddedS3(Path(tmp) / "stack")
        state = stack.up()
        try:
            settings = Settings(
                home=Path(tmp) / "home",
                s3_endpoint=state.endpoint,
                s3_access_key=state.access_key,
                s3_secret_key=state.secret_key,
            )
            store = ObjectStore.from_settings(settings)
            data = encode(get_dataset("reviews").generator(args.rows, seed=0), "x.csv")
            partition = f"bench-{args.rows}.csv"
            key = f"{settings.landing_prefix}reviews/{partition}"
            store.put_bytes(key, data)
            print(f"upload: {args.rows:,} rows, {len(data) / 1e6:.0f} MB CSV at s3://lake/{key}")
            with dg.instance_for_test() as instance:
                instance.add_dynamic_partitions("reviews_uploads", [partition])
                bare_ingest(settings, key, "bench/warmup.parquet")  # warm caches, both paths
                bare, first, rerun = [], [], []
                for i in range(args.repeats):
                    bare.append(bare_ingest(settings, key, f"bench/bare-{i}.parquet"))
                    (first if i == 0 else rerun).append(
                        platform_ingest(settings, instance, partition)
                    )
                rerun.append(platform_ingest(settings, instance, partition))
                rows = Lakehouse(open_catalog(settings)).count("raw.reviews")
        finally:
            stack.down()

    b, f, r = statistics.median(bare), first[0], statistics.median(rerun)
    checks = [
        ("platform raw ingest / bare pyarrow", f / b, 1.5),
        ("re-materialise / first run", r / f, 1.2),
    ]
    print(f"bare pyarrow CSV -> Parquet on S3: {b:6.2f} s (median of {len(bare)})")
    print(f"platform raw asset, first run:     {f:6.2f} s")
    print(f"platform raw asset, re-run:        {r:6.2f} s (median of {len(rerun)})")
    for name, ratio, target in checks:
        verdict = "PASS" if ratio <= target else "FAIL"
        print(f"{verdict}  {name}: {ratio:.2f}x (target <= {target}x)")
    unchanged = rows == args.rows
    verdict = "PASS" if unchanged else "FAIL"
    print(f"{verdict}  rows after re-runs: {rows:,} (expected {args.rows:,})")


if __name__ == "__main__":
    main()
