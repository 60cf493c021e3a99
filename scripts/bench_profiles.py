"""Profiles and drift, measured (#30). One run prints a PASS/FAIL line per target:

- profile-merge: the stored profiles of `--uploads` uploads (rows of `profiles.<name>`, as
  the ingest wrote them, of `--upload-rows` rows each) merged into one, median of
  `--repeats`. Target <= 1 s. Beside it, the full rescan of the same rows with polars
  (what the merge saves), and the accuracy: each merged quantile's true rank in the full
  data within the KLL sketch's normalized rank error (PASS when all are).
- drift-check: the drift check of a `--drift-rows` upload given its profile and the
  reference's (every metric of every column, and the plot of the drifting ones), median of
  `--repeats`. Target <= 0.5 s.

`profile-overhead` (the profile's share of the end-to-end ingest) is printed by
`scripts/bench_ingest.py`, beside the end-to-end line it is a share of.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from data_platform.contracts import load_dataset
from data_platform.profiles.drift import compare
from data_platform.profiles.plot import drift_plot
from data_platform.profiles.profile import Profile, merged
from data_platform.synthetic import generate_reviews

REPO = Path(__file__).resolve().parents[1]


def verdict(name: str, value: float, limit: float, detail: str) -> bool:
    ok = value <= limit
    print(f"{'PASS' if ok else 'FAIL'} {name}: {value:.3f} <= {limit} ({detail})")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=1000, help="uploads whose profiles merge")
    parser.add_argument("--upload-rows", type=int, default=1000, help="rows of each upload")
    parser.add_argument("--drift-rows", type=int, default=1_000_000, help="rows of the upload")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    args = parser.parse_args()
    contract = load_dataset(REPO / "datasets", "reviews")
    results = []

    print(f"== profile-merge: {args.uploads:,} uploads of {args.upload_rows:,} rows")
    rows, frames = [], []
    for i in range(args.uploads):
        frame = generate_reviews(args.upload_rows, seed=i, start_id=i * args.upload_rows)
        profile = Profile.empty(contract)
        profile.update(frame)
        rows.append(profile.rows_for(f"u{i}.csv", "training", datetime.now(UTC)))
        frames.append(frame.select("price", "rating", "category"))
    stored, everything = pl.concat(rows), pl.concat(frames)
    merges, scans = [], []
    for _ in range(args.repeats):  # interleaved: the merge, then the rescan it saves
        started = time.perf_counter()
        whole = merged(stored)
        merges.append(time.perf_counter() - started)
        started = time.perf_counter()
        everything.select(
            pl.col("price").quantile(0.5).alias("p50"), pl.col("price").mean().alias("mean"),
            pl.col("price").std().alias("std"), pl.col("rating").n_unique().alias("distinct"),
        )  # fmt: skip
        everything.get_column("category").value_counts()
        scans.append(time.perf_counter() - started)
    merge = statistics.median(merges)
    print(f"  merge  {' '.join(f'{t:.3f}' for t in merges)}  median {merge:.3f} s")
    print(
        f"  rescan {' '.join(f'{t:.3f}' for t in scans)}  median {statistics.median(scans):.3f} s "
        f"(the rows already in memory; the merge needs none)"
    )
    results.append(
        verdict("profile-merge", merge, 1.0, f"{args.uploads:,} uploads, {stored.height:,} rows")
    )
    price = whole.columns["price"]
    assert price.values is not None
    error = price.values.normalized_rank_error(False)
    values = everything["price"].sort().to_numpy()
    ranks = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    worst = max(
        abs(np.searchsorted(values, q, side="right") / values.size - rank)
        for rank, q in zip(ranks, price.quantiles(ranks) or [], strict=True)
    )
    results.append(
        verdict(
            "profile-merge-accuracy",
            worst / error,
            1.0,
            f"worst quantile rank error {worst:.4f} vs the sketch's {error:.4f}, "
            f"{values.size:,} prices",
        )
    )

    print(f"== drift-check: an upload of {args.drift_rows:,} rows")
    reference, upload = Profile.empty(contract), Profile.empty(contract)
    reference.update(generate_reviews(args.drift_rows, seed=1))
    shifted = generate_reviews(args.drift_rows, seed=2, start_id=args.drift_rows)
    upload.update(shifted.with_columns(pl.col("price") * 3))
    checks = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        report = compare(upload, reference, contract, "the reference")
        drift_plot(report, upload, reference)
        checks.append(time.perf_counter() - started)
    check = statistics.median(checks)
    print(f"  check {' '.join(f'{t:.3f}' for t in checks)}  median {check:.3f} s")
    print(f"  {report.summary()}")
    results.append(
        verdict(
            "drift-check",
            check,
            0.5,
            f"{len(report.metrics)} metrics and the plot, {args.drift_rows:,} rows each side",
        )
    )
    print(f"{sum(results)}/{len(results)} targets met")


if __name__ == "__main__":
    main()
