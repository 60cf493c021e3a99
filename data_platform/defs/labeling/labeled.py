"""`labeled/<dataset>`: the labels from the labeling tool, upserted by record id into Iceberg.

Each sync reads every submitted annotation of the dataset's project and brings the table
to match: new labels are inserted, relabelled records updated in place, records whose
task (or label) was deleted removed; unchanged rows are not rewritten. A server that is
down fails the run before anything is written, so nothing is lost.
"""

from collections.abc import Iterator

import dagster as dg
import polars as pl
from pyiceberg.expressions import In

from data_platform.contracts import Contract
from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.defs.constants import OWNERS
from data_platform.defs.labeling.assets import labeling_failure, queue_key
from data_platform.defs.labeling.checks import labeled_check_results, labeled_check_specs
from data_platform.defs.metadata import preview
from data_platform.defs.resources import LakehouseResource
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.rows import changes_since, labeled_frame
from data_platform.lakehouse import Lakehouse


def labeled_key(spec: Contract) -> dg.AssetKey:
    return spec.asset_key("labeled")


def _previous(lake: Lakehouse, table: str) -> pl.DataFrame | None:
    if lake.load(table) is None:
        return None
    frame = pl.from_arrow(lake.read(table).data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _arrow(frame: pl.DataFrame):
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())


def build_labeled_asset(spec: Contract) -> dg.AssetsDefinition:
    key = labeled_key(spec)
    table = spec.table("labeled")

    @dg.asset(
        key=key,
        deps=[queue_key(spec)],
        check_specs=labeled_check_specs(key),
        group_name="labeled",
        kinds={"iceberg", "polars", "labelstudio"},
        owners=OWNERS,
        description=f"{spec.name}: one label per record from the labeling tool (upsert by id).",
        metadata={"dataset": spec.name, "iceberg_table": table, "classes": list(spec.classes)},
    )
    def labeled(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource, labeling: LabelingResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        lake = lakehouse.get_lakehouse()
        with labeling_failure():
            backend = labeling.get_backend()
            project = backend.find_project(spec)
            annotations = backend.annotations(spec)
        assert project is not None  # annotations() raised otherwise
        frame = labeled_frame(annotations, spec, backend.kind, project.project_id)
        lake.rename_former_columns(table)
        changes = changes_since(frame, _previous(lake, table), spec.id_column)
        if lake.load(table) is None:
            lake.ensure_table(table, _arrow(frame.clear()).schema, None)
        if changes.upserts.height:
            lake.upsert(table, _arrow(changes.upserts), join_cols=[spec.id_column])
        if changes.removed:
            current = lake.load(table)
            assert current is not None  # ensured above
            # pyiceberg: pydantic's synthesised __init__ hides the positional one from mypy
            current.delete(In(spec.id_column, changes.removed))  # type: ignore[call-arg, arg-type]
        context.log.info(
            f"{table}: +{changes.inserted} new, {changes.updated} relabelled, "
            f"{len(changes.removed)} removed, {changes.unchanged} unchanged"
        )
        loaded = lake.load(table)
        assert loaded is not None  # ensured above
        snapshots = sorted({str(s) for s in frame[STAGED_SNAPSHOT_ID].drop_nulls().to_list()})
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(frame.height),
                "table": table,
                "rows_inserted": dg.MetadataValue.int(changes.inserted),
                "rows_updated": dg.MetadataValue.int(changes.updated),
                "rows_removed": dg.MetadataValue.int(len(changes.removed)),
                "rows_unchanged": dg.MetadataValue.int(changes.unchanged),
                "write_mode": "upsert",
                "snapshot_id": dg.MetadataValue.text(str(lake.snapshot_id(table))),
                "table_location": dg.MetadataValue.url(loaded.location()),
                "annotations_read": dg.MetadataValue.int(len(annotations)),
                "annotators": dg.MetadataValue.json(sorted(set(frame["annotator"].to_list()))),
                "project_url": dg.MetadataValue.url(project.url),
                "input_snapshots": dg.MetadataValue.json({spec.table("staged"): snapshots}),
                "preview": preview(frame.drop("text")),
            }
        )
        yield from labeled_check_results(key, frame, spec)

    return labeled
