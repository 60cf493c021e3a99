"""Sample uploads for the demo datasets, in every supported format, deterministic by seed.

The demo's two datasets (`reviews`, `tickets`) are contracts in `datasets/` like any other;
only their sample rows come from code, the generators in `core.generate`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from data_platform.storage import ObjectInfo, ObjectStore
from data_platform.synthetic import generate_reviews, generate_tickets

GENERATORS: dict[str, Callable[..., pl.DataFrame]] = {
    "reviews": generate_reviews,
    "tickets": generate_tickets,
}


@dataclass(frozen=True)
class SampleUpload:
    dataset: str
    name: str  # key under landing/<dataset>/, and so the partition key
    rows: int
    seed: int
    start_id: int


SAMPLES = (
    SampleUpload("reviews", "2026-11/batch-0001.csv", 3000, 1, 0),
    SampleUpload("reviews", "2026-11/batch-0002.parquet", 2000, 2, 3000),
    SampleUpload("reviews", "2026-11/batch-0003.jsonl", 1000, 3, 5000),
    SampleUpload("tickets", "2026-11/batch-0001.csv", 800, 4, 0),
)


def encode(frame: pl.DataFrame, name: str) -> bytes:
    """`frame` in the format that `name`'s extension says."""
    buffer = io.BytesIO()
    if name.endswith(".csv"):
        frame.write_csv(buffer)
    elif name.endswith(".parquet"):
        frame.write_parquet(buffer)
    elif name.endswith((".jsonl", ".ndjson")):
        frame.write_ndjson(buffer)
    else:
        raise ValueError(f"no encoder for {name!r}")
    return buffer.getvalue()


def sample_frame(sample: SampleUpload) -> pl.DataFrame:
    return GENERATORS[sample.dataset](sample.rows, seed=sample.seed, start_id=sample.start_id)


def upload(
    store: ObjectStore, landing_root: str, dataset: str, name: str, data: bytes
) -> ObjectInfo:
    """Put `data` at `landing/<dataset>/<name>`, as any S3 client would."""
    return store.put_bytes(f"{landing_root.rstrip('/')}/{dataset}/{name}", data)


def upload_samples(
    store: ObjectStore, landing_root: str, samples: tuple[SampleUpload, ...] = SAMPLES
) -> list[ObjectInfo]:
    """Upload every sample to its landing key."""
    return [
        upload(store, landing_root, s.dataset, s.name, encode(sample_frame(s), s.name))
        for s in samples
    ]
