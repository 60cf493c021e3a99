"""The annotations sensor: new, changed or deleted annotations trigger a sync of `labeled`.

Each tick lists the project's submitted annotations and compares a digest of them (ids,
labels, update times, tasks) with the cursor. A server that is down is a skip, not a
failure, and leaves the cursor alone: the changes are picked up once it is back.
"""

import hashlib
import json
from collections.abc import Sequence

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from data_platform.contracts import Contract
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.backend import AnnotationRecord, LabelingError, ProjectNotFoundError
from data_platform.settings import LabelingServerNotRunningError

SENSOR_INTERVAL_S = 30


def annotations_digest(annotations: Sequence[AnnotationRecord]) -> str:
    """A fingerprint that changes when any annotation is added, edited, moved or deleted."""
    parts = sorted(
        f"{a.task_id}|{a.annotation_id}|{a.updated_at.isoformat()}|{a.label}|{a.annotator}"
        for a in annotations
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def build_annotations_sensor(
    spec: Contract, job: UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{spec.name}_annotations_sensor",
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Syncs labeled/{spec.name} when annotations change in the labeling tool.",
    )
    def annotations_sensor(
        context: dg.SensorEvaluationContext, labeling: LabelingResource
    ) -> dg.SensorResult | dg.SkipReason:
        try:
            annotations = labeling.get_backend().annotations(spec)
        except ProjectNotFoundError as exc:
            return dg.SkipReason(str(exc))
        except (LabelingError, LabelingServerNotRunningError) as exc:
            return dg.SkipReason(f"labeling server unavailable; will retry next tick: {exc}")
        previous = json.loads(context.cursor) if context.cursor else {}
        digest = annotations_digest(annotations)
        if digest == previous.get("digest"):
            return dg.SkipReason(f"no new or changed annotations ({len(annotations)} in total)")
        if not annotations and not previous:
            return dg.SkipReason(f"no annotations yet in the {spec.name} project")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{spec.name}:{digest[:20]}",
                    tags={
                        "data_platform/dataset": spec.name,
                        "data_platform/annotations": str(len(annotations)),
                    },
                )
            ],
            cursor=json.dumps({"digest": digest, "annotations": len(annotations)}),
        )

    return annotations_sensor
