"""The ingest job of a dataset: raw -> staged -> transformed for one upload."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from data_platform.datasets import DatasetSpec
from data_platform.defs.raw.partitions import partitions_for


def build_ingest_job(spec: DatasetSpec) -> UnresolvedAssetJobDefinition:
    layers = [dg.AssetKey([layer, spec.name]) for layer in ("raw", "staged", "transformed")]
    return dg.define_asset_job(
        name=f"ingest_{spec.name}",
        selection=dg.AssetSelection.assets(*layers),
        partitions_def=partitions_for(spec),
        description=f"Ingest one upload of {spec.name}: raw, staged (checked), transformed.",
    )
