"""`build_labeling_defs`: a dataset's labeling queue, labeled layer, jobs and sensor."""

from __future__ import annotations

import dagster as dg

from data_platform.contracts import Contract
from data_platform.defs.labeling.assets import build_queue_asset, queue_key
from data_platform.defs.labeling.labeled import build_labeled_asset, labeled_key
from data_platform.defs.labeling.sensors import build_annotations_sensor
from data_platform.defs.resources.labeling import LabelingResource, default_labeling_resource


def build_labeling_defs(spec: Contract, labeling: LabelingResource | None = None) -> dg.Definitions:
    """Assets `labeling/queue/<ds>` and `labeled/<ds>`, their jobs, and the annotations sensor.

    Merge with the platform's definitions (which bind `lakehouse`). Without `labeling`,
    one shared `LabelingResource` reading `DP_LABELING_*` is bound, so the Definitions of
    several datasets merge cleanly; pass one instance to pin a server (tests, demo).
    """
    queue_job = dg.define_asset_job(
        name=f"queue_labels_{spec.name}",
        selection=dg.AssetSelection.assets(queue_key(spec)),
        description=f"Push the next unlabeled {spec.name} records to the labeling tool.",
    )
    sync_job = dg.define_asset_job(
        name=f"sync_labels_{spec.name}",
        selection=dg.AssetSelection.assets(labeled_key(spec)),
        description=f"Sync labeled/{spec.name} with the labeling tool's annotations.",
    )
    return dg.Definitions(
        assets=[build_queue_asset(spec), build_labeled_asset(spec)],
        jobs=[queue_job, sync_job],
        sensors=[build_annotations_sensor(spec, sync_job)],
        resources={"labeling": labeling or default_labeling_resource()},
    )
