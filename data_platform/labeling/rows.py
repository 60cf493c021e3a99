"""From annotations to rows of `labeled.<dataset>`, and what changed since the last sync.

One row per record: the latest submitted label, who gave it and when, the task and the
staged snapshot it came from, and the latest label of a second annotator (for agreement).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.labeling.backend import AnnotationRecord

UTC_US = pl.Datetime("us", "UTC")


def labeled_schema(spec: Contract) -> dict[str, pl.DataType]:
    """Columns of `labeled.<dataset>`; the dataset's id column is the upsert key."""
    return {
        spec.id_column: pl.String(),
        "text": pl.String(),
        "label": pl.String(),
        "annotator": pl.String(),
        "annotation_id": pl.String(),
        "task_id": pl.String(),
        "annotation_count": pl.Int64(),
        "second_label": pl.String(),
        "second_annotator": pl.String(),
        "labeled_at": UTC_US,
        "updated_at": UTC_US,
        SOURCE_KEY: pl.String(),
        STAGED_SNAPSHOT_ID: pl.Int64(),
        "backend": pl.String(),
        "project_id": pl.String(),
    }


def labeled_frame(
    annotations: Sequence[AnnotationRecord], spec: Contract, backend: str, project_id: str
) -> pl.DataFrame:
    """One row per labeled record (annotations without a chosen class are left out)."""
    by_record: dict[str, list[AnnotationRecord]] = defaultdict(list)
    for ann in annotations:
        if ann.label is not None:
            by_record[ann.record_id].append(ann)
    rows = []
    for record_id, anns in sorted(by_record.items()):
        anns.sort(key=lambda a: (a.updated_at, a.annotation_id), reverse=True)
        latest = anns[0]
        second = next((a for a in anns[1:] if a.annotator != latest.annotator), None)
        rows.append(
            {
                spec.id_column: record_id,
                "text": latest.text,
                "label": latest.label,
                "annotator": latest.annotator,
                "annotation_id": latest.annotation_id,
                "task_id": latest.task_id,
                "annotation_count": len(anns),
                "second_label": second.label if second else None,
                "second_annotator": second.annotator if second else None,
                "labeled_at": latest.created_at,
                "updated_at": latest.updated_at,
                SOURCE_KEY: latest.source_key,
                STAGED_SNAPSHOT_ID: latest.staged_snapshot_id,
                "backend": backend,
                "project_id": project_id,
            }
        )
    return pl.DataFrame(rows, schema=labeled_schema(spec), orient="row")


@dataclass(frozen=True)
class LabeledChanges:
    """Rows to upsert (new or changed), ids to remove (their task or label is gone)."""

    upserts: pl.DataFrame
    removed: list[str]
    inserted: int
    updated: int
    unchanged: int


def changes_since(current: pl.DataFrame, previous: pl.DataFrame | None, key: str) -> LabeledChanges:
    """Compare the rows from the server with the table: new, changed, unchanged, removed."""
    if previous is None or previous.is_empty():
        return LabeledChanges(current, [], current.height, 0, 0)
    previous = previous.select(current.columns).cast(current.schema)
    old_ids = set(previous[key].to_list())
    joined = current.join(previous, on=key, how="left", suffix="__old", maintain_order="left")
    same = pl.all_horizontal(
        pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in current.columns if c != key
    )
    flags = joined.select(pl.col(key).is_in(list(old_ids)).not_().alias("new"), same.alias("same"))
    is_new, is_same = flags["new"], flags["same"] & ~flags["new"]
    return LabeledChanges(
        upserts=current.filter(~is_same),
        removed=sorted(old_ids - set(current[key].to_list())),
        inserted=int(is_new.sum()),
        updated=int((~is_new & ~is_same).sum()),
        unchanged=int(is_same.sum()),
    )
