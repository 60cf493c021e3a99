"""Every upload in a table snapshot a consumer read: lineage of whole-table reads.

A partitioned materialisation leads to one upload (`chain.trace`); a consumer that read a
whole table (inference, a labeling queue, an export, a training stream) read the rows of
every upload in that snapshot. `uploads_in` lists them from the rows themselves: each
`_source_key` in the snapshot, its rows there, and from raw its ETag and when it was
ingested.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import polars as pl
from pyiceberg.expressions import In

from data_platform.contracts.columns import INGESTED_AT, SOURCE_ETAG, SOURCE_KEY
from data_platform.lakehouse.tables import Lakehouse


@dataclass(frozen=True)
class UploadRead:
    """One upload whose rows a snapshot holds."""

    key: str  # the upload's key under landing/<dataset>/ (the partition)
    etag: str | None  # the version ingested (from raw), None if raw no longer has it
    rows: int  # its rows in the snapshot read
    ingested_at: str | None  # when it was ingested (UTC, ISO 8601)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def uploads_in(lake: Lakehouse, table: str, snapshot_id: int | None) -> list[UploadRead]:
    """The uploads whose rows `table` held at `snapshot_id` (None: now), by key."""
    read = lake.read(table, snapshot_id=snapshot_id, columns=(SOURCE_KEY,))
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)
    counts = frame.group_by(SOURCE_KEY).len("rows").sort(SOURCE_KEY)
    keys = counts.get_column(SOURCE_KEY).to_list()
    versions = _raw_versions(lake, table, keys)
    return [
        UploadRead(
            key=key,
            etag=versions.get(key, (None, None))[0],
            rows=rows,
            ingested_at=versions.get(key, (None, None))[1],
        )
        for key, rows in counts.iter_rows()
    ]


def _raw_versions(
    lake: Lakehouse, table: str, keys: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    """Upload key -> (ETag, ingested at) from the dataset's raw table."""
    raw = "raw." + table.split(".", 1)[1]
    if not keys or lake.load(raw) is None:
        return {}
    rows = lake.read(
        raw,
        columns=(SOURCE_KEY, SOURCE_ETAG, INGESTED_AT),
        row_filter=In(SOURCE_KEY, set(keys)),  # type: ignore[call-arg, arg-type]
    )
    frame = pl.from_arrow(rows.data)
    assert isinstance(frame, pl.DataFrame)
    firsts = frame.group_by(SOURCE_KEY).agg(pl.col(SOURCE_ETAG).first(), pl.col(INGESTED_AT).min())
    return {
        key: (etag, at.isoformat() if at is not None else None)
        for key, etag, at in firsts.iter_rows()
    }
