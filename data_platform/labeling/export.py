"""`labeled.<dataset>` to a training file (Parquet) with a stable train/validation split.

A record's split is decided by a hash of its id alone, so re-exporting after more labels
arrive never moves a record from train to validation or back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.lakehouse import Lakehouse
from data_platform.settings import Settings
from data_platform.splits import split_for

EXPORT_COLUMNS = ("text", "label", "annotator", "labeled_at", SOURCE_KEY, STAGED_SNAPSHOT_ID)


@dataclass(frozen=True)
class ExportResult:
    """Where the file went, what it holds, and which snapshot of the table it came from."""

    path: str
    rows: int
    train_rows: int
    validation_rows: int
    excluded_rows: int  # labels outside the declared classes are never exported
    snapshot_id: int | None


def training_frame(
    lake: Lakehouse, spec: Contract, validation_fraction: float = 0.2
) -> tuple[pl.DataFrame, int, int | None]:
    """(rows with a `split` column sorted by id, rows excluded, snapshot read)."""
    read = lake.read(spec.table("labeled"))
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)
    valid = frame.filter(pl.col("label").is_in(list(spec.classes)))
    valid = valid.select(spec.id_column, *EXPORT_COLUMNS).sort(spec.id_column)
    split = split_for(valid[spec.id_column].to_list(), validation_fraction)
    return (
        valid.with_columns(pl.Series("split", split, pl.String)),
        frame.height - valid.height,
        read.snapshot_id,
    )


def export_training_file(
    lake: Lakehouse,
    spec: Contract,
    out: str | Path,
    *,
    validation_fraction: float = 0.2,
    settings: Settings | None = None,
) -> ExportResult:
    """Write the labeled rows to `out` (a local path, or `s3://bucket/key` with `settings`)."""
    frame, excluded, snapshot = training_frame(lake, spec, validation_fraction)
    target = str(out)
    if target.startswith("s3://"):
        if settings is None:
            raise ValueError("an s3:// export needs the platform settings")
        import pyarrow.parquet as pq

        from data_platform.storage.arrow import arrow_filesystem

        table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
        fs = arrow_filesystem(settings)
        pq.write_table(table, target.removeprefix("s3://"), filesystem=fs)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(target)
    counts = frame["split"].value_counts()
    by_split = dict(zip(counts["split"].to_list(), counts["count"].to_list(), strict=True))
    return ExportResult(
        path=target,
        rows=frame.height,
        train_rows=by_split.get("train", 0),
        validation_rows=by_split.get("validation", 0),
        excluded_rows=excluded,
        snapshot_id=snapshot,
    )
