"""Small helpers shared by the definitions tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_platform.contracts import Contract, load_dataset
from data_platform.ops.demo.samples import GENERATORS, encode, upload
from data_platform.settings import Settings
from data_platform.storage import ObjectInfo, ObjectStore

DATASETS_DIR = Path(__file__).resolve().parents[2] / "datasets"


def sample_contract(name: str) -> Contract:
    """The contract of a demo dataset (`reviews`, `tickets`), from the repository."""
    return load_dataset(DATASETS_DIR, name)


def sample_rows(name: str, rows: int, seed: int = 0, start_id: int = 0) -> pl.DataFrame:
    return GENERATORS[name](rows, seed=seed, start_id=start_id)


def put_upload(
    store: ObjectStore, settings: Settings, dataset: str, name: str, frame: pl.DataFrame
) -> ObjectInfo:
    return upload(store, settings.landing_prefix, dataset, name, encode(frame, name))


def put_bytes(
    store: ObjectStore, settings: Settings, dataset: str, name: str, data: bytes
) -> ObjectInfo:
    return upload(store, settings.landing_prefix, dataset, name, data)


SAMPLE_DATASETS = (sample_contract("reviews"), sample_contract("tickets"))
