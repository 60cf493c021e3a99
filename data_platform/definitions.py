"""The one entry point: Definitions for every declared dataset and every layer."""

from __future__ import annotations

import dagster as dg

from data_platform.datasets import DATASETS
from data_platform.defs.benchmarks.formats import format_case, formats_summary
from data_platform.defs.benchmarks.inference import inference_case, inference_summary
from data_platform.defs.embedded.assets import build_embedded_asset
from data_platform.defs.embedded.searches import saved_searches
from data_platform.defs.inference.assets import reviews_predictions
from data_platform.defs.labeling import build_labeling_defs
from data_platform.defs.maintenance import build_maintenance_defs
from data_platform.defs.raw.assets import build_raw_asset
from data_platform.defs.raw.jobs import build_ingest_job
from data_platform.defs.raw.sensors import build_landing_sensor
from data_platform.defs.resources import build_resources
from data_platform.defs.staged.assets import build_staged_asset
from data_platform.defs.transformed.assets import build_transformed_asset
from data_platform.resources import PlatformSettings
from data_platform.resources.labeling import LabelingResource, default_labeling_resource


def build_definitions(
    platform: PlatformSettings | None = None, labeling: LabelingResource | None = None
) -> dg.Definitions:
    """Every dataset's layers, sensors and jobs; `platform` and `labeling` pin settings."""
    labeling = labeling or default_labeling_resource()
    assets, jobs, sensors = [], [], []
    for spec in DATASETS:
        assets += [build_raw_asset(spec), build_staged_asset(spec), build_transformed_asset(spec)]
        assets.append(build_embedded_asset(spec))
        job = build_ingest_job(spec)
        jobs.append(job)
        sensors.append(build_landing_sensor(spec, job))
    assets += [
        saved_searches,
        reviews_predictions,
        format_case,
        formats_summary,
        inference_case,
        inference_summary,
    ]
    layers = dg.Definitions(assets=assets, jobs=jobs, sensors=sensors)
    return dg.Definitions.merge(
        layers,
        *(build_labeling_defs(spec, labeling) for spec in DATASETS),
        build_maintenance_defs(),
        # steps run in the run's process: a subprocess per step re-imports everything (5-10 s)
        dg.Definitions(resources=build_resources(platform), executor=dg.in_process_executor),
    )


defs = build_definitions()
