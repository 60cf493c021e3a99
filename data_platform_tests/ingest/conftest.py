"""Ingesting bytes under a contract, without a store: the pure path of `core.ingest`."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from data_platform.contracts import Contract
from data_platform.ingest import Ingestion, Upload, Verdict, upload_format
from data_platform_tests.defs.helpers import sample_contract

Ingest = Callable[..., tuple[Verdict, dict[str, pl.DataFrame]]]


def ingest_bytes(
    contract: Contract, data: bytes, name: str, batch_rows: int = 250_000
) -> tuple[Verdict, dict[str, pl.DataFrame]]:
    """The verdict, and each layer's rows (staged/transformed only while no problem)."""
    upload = Upload(
        f"s3://lake/landing/{contract.name}/{name}", name, "etag-1", upload_format(name)
    )
    ingestion = Ingestion(contract, upload, batch_rows=batch_rows)
    layers: dict[str, list[pl.DataFrame]] = {"raw": [], "staged": [], "transformed": []}
    for rows in ingestion.rows(data):
        layers[rows.layer].append(rows.frame)
    frames = {k: pl.concat(v) for k, v in layers.items() if v}
    return ingestion.verdict, frames


@pytest.fixture
def reviews() -> Contract:
    return sample_contract("reviews")


@pytest.fixture
def ingest(reviews: Contract) -> Ingest:
    def run(data: bytes, name: str = "a.csv", contract: Contract | None = None, **kw):
        return ingest_bytes(contract or reviews, data, name, **kw)

    return run
