"""The `Datasets` component: each contract in a datasets folder becomes its dataset's layers.

A contract gives its dataset the layers it calls for: ingestion (raw, staged, transformed)
with its landing sensor and job, always; `embedded` with text columns; the labeling queue
and `labeled` with a label; `inference` with a target; saved searches where declared.
Adding a dataset is adding a YAML file; no code names one. (No `from __future__ import
annotations` here: Dagster resolves the component's fields from their real types.)
"""

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from data_platform.contracts import Contract, load_contracts
from data_platform.defs.embedding.assets import build_embedded_asset
from data_platform.defs.embedding.searches import build_saved_searches
from data_platform.defs.inference.assets import build_inference_asset
from data_platform.defs.ingest.assets import build_ingest_assets
from data_platform.defs.ingest.jobs import build_ingest_job
from data_platform.defs.ingest.sensors import build_landing_sensor
from data_platform.defs.labeling import build_labeling_defs
from data_platform.defs.resources.labeling import LabelingResource, default_labeling_resource
from data_platform.settings import Settings


@dataclass(frozen=True)
class Pins:
    """What `build_definitions` fixes instead of the environment (tests, the demo, the CLI)."""

    contracts: Sequence[Contract] | None = None
    labeling: LabelingResource | None = None
    settings: Settings | None = None


PINS: ContextVar[Pins | None] = ContextVar("data_platform_pins", default=None)


@dataclass
class Datasets(dg.Component, dg.Resolvable):
    """Every dataset contract in a folder, each built into its layers' assets, checks,
    sensors and jobs.

    Args:
        folder: the datasets folder; empty for the settings' (`DP_DATASETS_DIR`).
    """

    folder: str = ""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        pins = PINS.get() or Pins()
        settings = pins.settings or Settings()
        contracts = pins.contracts
        if contracts is None:
            folder = Path(self.folder) if self.folder else settings.datasets_dir
            contracts = load_contracts(folder)
        labeling = pins.labeling or default_labeling_resource()
        return dataset_defs(contracts, labeling, settings.landing_sensor_interval_s)


def dataset_defs(
    contracts: Sequence[Contract], labeling: LabelingResource, sensor_interval_s: int
) -> dg.Definitions:
    """The layers, sensors and jobs of each contract."""
    assets: list = []
    jobs, sensors, merged = [], [], []
    for contract in contracts:
        job = build_ingest_job(contract)
        assets.append(build_ingest_assets(contract))
        jobs.append(job)
        sensors.append(build_landing_sensor(contract, job, sensor_interval_s))
        if contract.has_text:
            assets.append(build_embedded_asset(contract))
        if contract.has_target:
            assets.append(build_inference_asset(contract))
        if contract.has_labels:
            merged.append(build_labeling_defs(contract, labeling))
    searched = [c for c in contracts if c.searches]
    if searched:
        assets.append(build_saved_searches(searched))
    return dg.Definitions.merge(dg.Definitions(assets=assets, jobs=jobs, sensors=sensors), *merged)
