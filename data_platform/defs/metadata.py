"""Materialisation metadata a person wants: rows, snapshots, location, a preview."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import dagster as dg
import polars as pl

from data_platform.lakehouse import ReadResult, WriteResult


def preview(frame: pl.DataFrame, rows: int = 5, width: int = 60) -> dg.MetadataValue:
    """The first rows as a markdown table, long text cut to `width` characters."""
    head = frame.head(rows).with_columns(
        pl.col(c).cast(pl.String).str.slice(0, width) for c in frame.columns
    )
    header = "| " + " | ".join(head.columns) + " |"
    rule = "|" + "---|" * len(head.columns)
    lines = [
        "| " + " | ".join("" if v is None else str(v).replace("|", "/") for v in row) + " |"
        for row in head.iter_rows()
    ]
    return dg.MetadataValue.md("\n".join([header, rule, *lines]))


def image(png: bytes, alt: str = "plot") -> dg.MetadataValue:
    """A PNG shown inline on the asset page (markdown with a data URI)."""
    encoded = base64.b64encode(png).decode()
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")


def write_metadata(
    write: WriteResult, inputs: Sequence[ReadResult] = (), frame: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Metadata of one write: what was written where, and which input snapshots fed it."""
    meta: dict[str, Any] = {
        "dagster/row_count": dg.MetadataValue.int(write.rows_written),
        "table": write.table,
        "table_rows": dg.MetadataValue.int(write.table_rows),
        "write_mode": write.mode,
        "snapshot_id": dg.MetadataValue.text(str(write.snapshot_id)),
        "table_location": dg.MetadataValue.url(write.location),
        "input_snapshots": dg.MetadataValue.json(
            {read.table: str(read.snapshot_id) for read in inputs}
        ),
    }
    if frame is not None and frame.height:
        meta["preview"] = preview(frame)
    return meta
