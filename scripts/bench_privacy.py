"""De-identification's cost, measured (#31). One run prints a PASS/FAIL line:

- pii-overhead: ingesting a `--rows` upload whose contract declares two personal columns
  (`email`, hashed with the keyed HMAC, and `phone`, hashed too) and one free-text column
  (`text`, `pii: free_text`, scrubbed), against ingesting the same bytes
  under the same contract without `pii:` (both through `IngestRun`: raw, staged and
  transformed written and committed, profiles on), interleaved, median of `--repeats`.
  Target <= 1.25x.

It runs its own embedded S3 server and catalog in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from data_platform.contracts import parse_contract
from data_platform.ingest.run import IngestRun
from data_platform.lakehouse import open_lakehouse
from data_platform.ops.demo.samples import encode
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.storage import ObjectStore
from data_platform.synthetic import generate_reviews

VISITS = """name: {name}
key: [review_id]
text: [text]
columns:
  review_id: {{type: string, min_length: 1}}
  email: {{type: string{email}}}
  phone: {{type: string{phone}}}
  text: {{type: string, min_length: 1{notes}}}
  category: {{type: string}}
  rating: {{type: integer, min: 1, max: 5}}
  price: {{type: float, min: 0}}
  created_at: {{type: datetime, timezone: UTC}}
"""
LAYERS = {"raw", "staged", "transformed", "profiles"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the upload")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    args = parser.parse_args()
    personal = parse_contract(
        VISITS.format(
            name="visits_pii", phone=", pii: phone", email=", pii: email", notes=", pii: free_text"
        ),
        "visits_pii.yaml",
    )
    plain = parse_contract(VISITS.format(name="visits", phone="", email="", notes=""), "v.yaml")
    times: dict[str, list[float]] = {"pii": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="bench-privacy-") as tmp:
        with temporary_lake(Path(tmp)) as settings:
            store, lake = ObjectStore.from_settings(settings), open_lakehouse(settings)

            def upload(first: int) -> bytes:
                rows = generate_reviews(args.rows, seed=0, start_id=first)
                number = pl.int_range(first, first + args.rows).cast(pl.String)
                with_email = rows.with_columns(
                    (pl.lit("user") + number + pl.lit("@mail.example.org")).alias("email"),
                    (pl.lit("+1 206-") + number.str.zfill(7)).alias("phone"),
                ).select(
                    "review_id", "email", "phone", "text", "category", "rating", "price",
                    "created_at",
                )  # fmt: skip
                return encode(with_email, "x.csv")

            def ingest(contract, partition: str, data: bytes) -> float:
                store.put_bytes(f"{settings.landing_prefix}{contract.name}/{partition}", data)
                run = IngestRun(contract, [partition], settings, store, lake, lambda _: None)
                started = time.perf_counter()
                list(run.from_uploads(LAYERS))
                return time.perf_counter() - started

            ingest(personal, "warm.csv", upload(10**9))
            ingest(plain, "warm.csv", upload(10**9))
            for i in range(args.repeats):
                data = upload(i * args.rows)
                times["pii"].append(ingest(personal, f"run-{i}.csv", data))
                times["plain"].append(ingest(plain, f"run-{i}.csv", data))
            staged = lake.read(personal.table("staged"), columns=("email",)).data
            if "@" in "".join(staged.column("email").to_pylist()[:1000]):
                raise RuntimeError("an e-mail address reached staged in clear")
    for side, runs in times.items():
        shown = " ".join(f"{t:.2f}" for t in runs)
        print(f"  {side:<6} {shown}  median {statistics.median(runs):.2f} s")
    p, b = statistics.median(times["pii"]), statistics.median(times["plain"])
    ok = p / b <= 1.25
    print(
        f"{'PASS' if ok else 'FAIL'} pii-overhead: {p / b:.3f} <= 1.25 (de-identified {p:.2f} s "
        f"vs not {b:.2f} s, {args.rows:,} rows: e-mail and phone hashed, 1 free text scrubbed)"
    )


if __name__ == "__main__":
    main()
