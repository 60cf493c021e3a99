"""`labeling/queue/<dataset>`: records that need a label, pushed as tasks to the labeling tool."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.contracts import Contract
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.metadata import preview
from data_platform.defs.resources import LakehouseResource
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.backend import LabelingError, TaskRecord
from data_platform.labeling.queue import select_for_labeling
from data_platform.lakehouse import Lakehouse
from data_platform.settings import LabelingServerNotRunningError


class QueueConfig(dg.Config):
    batch_size: int = Field(default=200, description="Records pushed per materialisation.")


def queue_key(spec: Contract) -> dg.AssetKey:
    return spec.asset_key("labeling", "queue")


@contextmanager
def labeling_failure() -> Iterator[None]:
    """A labeling server that is down or refuses fails the run with its clear message."""
    try:
        yield
    except (LabelingError, LabelingServerNotRunningError) as exc:
        raise dg.Failure(description=str(exc)) from None


def _ids(lake: Lakehouse, table: str, column: str) -> set[str]:
    if lake.load(table) is None:
        return set()
    return set(lake.read(table, columns=(column,)).data.column(column).to_pylist())


def _predictions(lake: Lakehouse, spec: Contract) -> pl.DataFrame | None:
    table = spec.table("inference")
    if lake.load(table) is None:
        return None
    read = lake.read(table, columns=(spec.id_column, "predicted_label", "confidence"))
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def predicts_label(spec: Contract) -> bool:
    """Does `inference/<dataset>` predict the label (so the least certain can go first)?"""
    target = spec.target
    return (
        target is not None
        and target.task == "classification"
        and target.column == spec.label_column
    )


def build_queue_asset(spec: Contract) -> dg.AssetsDefinition:
    @dg.asset(
        key=queue_key(spec),
        # predictions (for uncertainty-first queues) exist for datasets with a model only
        deps=[spec.asset_key("staged")]
        + ([spec.asset_key("inference")] if predicts_label(spec) else []),
        group_name="labeling",
        kinds={"labelstudio", "polars"},
        owners=OWNERS,
        description=f"{spec.name}: unlabeled records, least certain first, pushed as tasks.",
        metadata={"dataset": spec.name, "classes": list(spec.classes)},
    )
    def queue(
        context: dg.AssetExecutionContext,
        config: QueueConfig,
        lakehouse: LakehouseResource,
        labeling: LabelingResource,
    ) -> dg.MaterializeResult:
        lake = lakehouse.get_lakehouse()
        try:
            staged = lake.read(spec.table("staged"))
        except LookupError as exc:
            raise dg.Failure(description=str(exc)) from None
        labeled = _ids(lake, spec.table("labeled"), spec.id_column)
        with labeling_failure():
            backend = labeling.get_backend()
            project = backend.ensure_project(spec)
            queued = backend.queued(spec)
            frame = pl.from_arrow(staged.data)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.with_columns(pl.col(spec.id_column).cast(pl.String), spec.display_expr())
            selection = select_for_labeling(
                frame,
                spec,
                config.batch_size,
                exclude=labeled | set(queued),
                predictions=_predictions(lake, spec) if predicts_label(spec) else None,
            )
            tasks = [
                TaskRecord(
                    record_id=row[spec.id_column],
                    text=row["text"],
                    source_key=row[SOURCE_KEY],
                    staged_snapshot_id=staged.snapshot_id,
                    predicted_label=row["predicted_label"],
                    confidence=row["confidence"],
                )
                for row in selection.frame.iter_rows(named=True)
            ]
            pushed = backend.push(spec, tasks)
        context.log.info(f"pushed {pushed.created} tasks to {project.url} ({selection.method})")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(pushed.created),
                "tasks_created": dg.MetadataValue.int(pushed.created),
                "tasks_in_project": dg.MetadataValue.int(len(pushed.task_ids)),
                "already_labeled": dg.MetadataValue.int(len(labeled)),
                "candidates_left": dg.MetadataValue.int(selection.candidates - pushed.created),
                "priority": selection.method,
                "backend": backend.kind,
                "project": project.title,
                "project_url": dg.MetadataValue.url(project.url),
                "input_snapshots": dg.MetadataValue.json(
                    {spec.table("staged"): str(staged.snapshot_id)}
                ),
                "preview": preview(selection.frame),
            }
        )

    return queue
