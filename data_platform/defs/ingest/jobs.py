"""The ingest job of a dataset: raw -> staged -> transformed for one upload."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from data_platform.contracts import Contract
from data_platform.defs.ingest.assets import LAYERS, layer_key
from data_platform.defs.ingest.partitions import uploads_partitions


def build_ingest_job(contract: Contract) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"ingest_{contract.name}",
        selection=dg.AssetSelection.assets(
            *(layer_key(layer, contract) for layer in LAYERS), contract.asset_key("profiles")
        ),
        partitions_def=uploads_partitions(contract.name),
        description=f"Ingest one upload of {contract.name}: raw, staged (checked), transformed.",
    )
