"""A real lake with a tagged `transformed.reviews` of several files, made once per module."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.lakehouse import open_lakehouse
from data_platform.ops.runner import ingest_landing
from data_platform.ops.stack.seaweed import StackState
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_upload, sample_contract, sample_rows
from data_platform_tests.fixtures.s3 import make_settings

TABLE = "transformed.reviews"
TAG = "train-v1"
UPLOADS = (("a.csv", 70), ("b.csv", 45), ("c.csv", 90), ("d.csv", 30), ("e.csv", 65))


@dataclass(frozen=True)
class TrainingLake:
    settings: Settings
    tagged_rows: int  # rows of the table at TAG
    tagged_snapshot: int


def _ingest(settings: Settings, uploads: tuple[tuple[str, int], ...], start_id: int) -> int:
    spec = sample_contract("reviews")
    store = ObjectStore.from_settings(settings)
    for seed, (name, rows) in enumerate(uploads):
        frame = sample_rows("reviews", rows, seed=seed, start_id=start_id)
        put_upload(store, settings, "reviews", name, frame)
        start_id += rows
    defs = build_definitions(SettingsResource.from_settings(settings))
    with dg.instance_for_test() as instance:
        outcomes = ingest_landing(defs, instance, (spec,))
    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    return start_id


@pytest.fixture(scope="module")
def training_lake(s3_server: StackState, tmp_path_factory: pytest.TempPathFactory) -> TrainingLake:
    """Five uploads ingested and tagged TAG; then one more upload, so current != tagged."""
    settings = make_settings(
        s3_server, tmp_path_factory.mktemp("training") / "home", f"t-{secrets.token_hex(6)}"
    )
    ObjectStore.from_settings(settings).ensure_bucket()
    next_id = _ingest(settings, UPLOADS, 0)
    lake = open_lakehouse(settings)
    tagged = lake.tag(TAG, tables=[TABLE])[TABLE]
    _ingest(settings, (("f.csv", 25),), next_id)
    assert lake.snapshot_id(TABLE) != tagged
    return TrainingLake(settings, sum(rows for _, rows in UPLOADS), tagged)
