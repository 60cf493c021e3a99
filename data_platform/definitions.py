"""The one entry point: Definitions for every dataset contract and every layer.

Each `datasets/<name>.yaml` contract gives its dataset the layers it calls for: ingestion
(raw, staged, transformed) always; `embedded` with text columns; the labeling queue and
`labeled` with a label; `inference` with a target. Adding a dataset is adding a YAML file.

`defs` is built when Dagster loads the code location, not when this module is imported
(the CLI and the tests import `build_definitions` with contracts of their own). A broken
contract fails the load with one error per problem, `<file>:<line>: <field>: <what>`.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from data_platform.contracts import Contract, ContractError, load_contracts
from data_platform.defs.benchmarks.formats import format_case, formats_summary
from data_platform.defs.benchmarks.inference import inference_case, inference_summary
from data_platform.defs.embedding.assets import build_embedded_asset
from data_platform.defs.embedding.searches import build_saved_searches
from data_platform.defs.executor import build_executor
from data_platform.defs.inference.assets import build_inference_asset
from data_platform.defs.ingest.assets import build_ingest_assets
from data_platform.defs.ingest.jobs import build_ingest_job
from data_platform.defs.ingest.sensors import build_landing_sensor
from data_platform.defs.labeling import build_labeling_defs
from data_platform.defs.maintenance import build_maintenance_defs
from data_platform.defs.resources import PlatformSettings
from data_platform.defs.resources.bindings import build_resources
from data_platform.defs.resources.labeling import LabelingResource, default_labeling_resource


def build_definitions(
    platform: PlatformSettings | None = None,
    labeling: LabelingResource | None = None,
    contracts: Sequence[Contract] | None = None,
) -> dg.Definitions:
    """Every dataset's layers, sensors and jobs; the arguments pin settings (tests, demo).

    Without `contracts`, the contracts in the datasets folder (`DP_DATASETS_DIR`) are read.
    """
    platform = platform or PlatformSettings.from_environment()
    labeling = labeling or default_labeling_resource()
    settings = platform.get_settings()
    if contracts is None:
        contracts = load_contracts(settings.datasets_dir)
    assets: list = [format_case, formats_summary, inference_case, inference_summary]
    jobs, sensors, merged = [], [], []
    for contract in contracts:
        job = build_ingest_job(contract)
        assets.append(build_ingest_assets(contract))
        jobs.append(job)
        sensors.append(build_landing_sensor(contract, job, settings.landing_sensor_interval_s))
        if contract.has_text:
            assets.append(build_embedded_asset(contract))
        if contract.has_target:
            assets.append(build_inference_asset(contract))
        if contract.has_labels:
            merged.append(build_labeling_defs(contract, labeling))
    searched = [c for c in contracts if c.searches]
    if searched:
        assets.append(build_saved_searches(searched))
    layers = dg.Definitions(assets=assets, jobs=jobs, sensors=sensors)
    return dg.Definitions.merge(
        layers,
        *merged,
        build_maintenance_defs(),
        dg.Definitions(
            resources=build_resources(platform),
            executor=build_executor(settings),
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location: every contract in the datasets folder, the environment's settings."""
    platform = PlatformSettings.from_environment()
    try:
        contracts = load_contracts(platform.get_settings().datasets_dir)
    except ContractError as exc:
        # the file, line and field, without the loader's frames (the message says it all)
        raise ContractError(str(exc)) from None
    return build_definitions(platform, contracts=contracts)
