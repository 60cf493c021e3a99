"""The profiles a dataset keeps in `profiles.<name>`, and the reference an upload is compared with.

The reference is a merge of stored profiles, never a rescan: `previous` merges every
training upload before the one compared; a tag merges the profiles of the uploads whose
rows staged held at that tag (the snapshot a model was trained on).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, In, NotIn

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.contracts.monitoring import TRAINING
from data_platform.lakehouse import Lakehouse
from data_platform.profiles.profile import ROW_SCHEMA, Profile, merged

PREVIOUS = "previous"


@dataclass(frozen=True)
class Reference:
    """A merged profile and what it is, for a person."""

    profile: Profile
    described: str


def profile_rows(
    lake: Lakehouse, contract: Contract, row_filter: BooleanExpression | None = None
) -> pl.DataFrame:
    """Rows of `profiles.<name>` (every upload's, or those `row_filter` selects)."""
    try:
        read = lake.read(contract.table("profiles"), row_filter=row_filter)
    except LookupError:  # no upload profiled yet
        return pl.DataFrame(schema=ROW_SCHEMA)
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def reference(
    lake: Lakehouse,
    contract: Contract,
    ref: str = PREVIOUS,
    *,
    exclude: Collection[str] = (),
    before: datetime | None = None,
) -> Reference:
    """The reference profile: `previous` (training uploads ingested before `before`, less
    `exclude`), or the uploads in staged at tag or snapshot `ref`."""
    if ref == PREVIOUS:
        row_filter: BooleanExpression = EqualTo("environment", TRAINING)  # type: ignore[call-arg, arg-type]
        if exclude:
            row_filter = And(row_filter, NotIn(SOURCE_KEY, set(exclude)))  # type: ignore[call-arg, arg-type]
        rows = profile_rows(lake, contract, row_filter)
        if before is not None:
            rows = rows.filter(pl.col("ingested_at") < before)
        count = rows.get_column(SOURCE_KEY).n_unique()
        return Reference(merged(rows), f"the {count:,} earlier upload(s)")
    keys = uploads_at(lake, contract, ref)
    rows = profile_rows(lake, contract, In(SOURCE_KEY, keys) if keys else AlwaysTrue())  # type: ignore[call-arg, arg-type]
    if not keys:
        rows = rows.clear()
    return Reference(merged(rows), f"tag {ref} ({len(keys):,} upload(s))")


def uploads_at(lake: Lakehouse, contract: Contract, ref: str) -> set[str]:
    """The uploads whose rows staged held at tag or snapshot `ref` (LookupError if unknown)."""
    table = contract.table("staged")
    snapshot = lake.resolve_snapshot(table, ref)
    read = lake.read(table, snapshot_id=snapshot, columns=(SOURCE_KEY,))
    frame = pl.from_arrow(read.data)
    assert isinstance(frame, pl.DataFrame)
    return set(frame.get_column(SOURCE_KEY).unique().to_list())


@dataclass(frozen=True)
class UploadProfile:
    """One upload's stored profile, with its environment and when it was ingested."""

    key: str
    profile: Profile
    environment: str
    ingested_at: datetime


def upload_profile(lake: Lakehouse, contract: Contract, key: str | None = None) -> UploadProfile:
    """The stored profile of upload `key` (None: the latest ingested); LookupError if none."""
    rows = profile_rows(lake, contract, EqualTo(SOURCE_KEY, key) if key else None)  # type: ignore[call-arg, arg-type]
    if not rows.height:
        what = f"upload {key!r}" if key else "any upload"
        raise LookupError(
            f"{contract.table('profiles')} has no profile of {what} (uploads are profiled as "
            "they are ingested: `data-platform datasets show "
            f"{contract.name}` lists them)"
        )
    if key is None:
        latest = rows.sort("ingested_at", SOURCE_KEY).get_column(SOURCE_KEY)[-1]
        rows = rows.filter(pl.col(SOURCE_KEY) == latest)
    first = rows.row(0, named=True)
    return UploadProfile(
        first[SOURCE_KEY], merged(rows), first["environment"], first["ingested_at"]
    )
