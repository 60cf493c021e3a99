"""Small helpers shared by the definitions tests."""

from __future__ import annotations

import polars as pl

from data_platform.datasets import get_dataset
from data_platform.demo.samples import encode, upload
from data_platform.settings import Settings
from data_platform.storage import ObjectInfo, ObjectStore


def put_upload(
    store: ObjectStore, settings: Settings, dataset: str, name: str, frame: pl.DataFrame
) -> ObjectInfo:
    return upload(store, get_dataset(dataset), settings.landing_prefix, name, encode(frame, name))


def put_bytes(
    store: ObjectStore, settings: Settings, dataset: str, name: str, data: bytes
) -> ObjectInfo:
    return upload(store, get_dataset(dataset), settings.landing_prefix, name, data)
