"""What an ingest run hands back: plain results and the failures a retry cannot mend.

`IngestRun` (ingest/run.py) yields them; the multi-asset in defs/ingest maps each to a
Dagster event, so this wing imports no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from data_platform.ingest.problems import Problem
from data_platform.lakehouse import ReadResult, WriteResult
from data_platform.profiles.drift import DriftReport
from data_platform.profiles.profile import Profile


@dataclass(frozen=True)
class LayerWritten:
    """One upload's rows in one layer's table, committed: the write (its rows are the
    upload's; the snapshot is the batch's), the snapshots it read, a preview, and plain
    values about the upload (source_object, source_etag, source_bytes, source_columns,
    contract_version, upload_archived_to, quarantined_to) where the layer has them."""

    partition: str
    layer: str
    write: WriteResult
    inputs: list[ReadResult]
    preview: pl.DataFrame | None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Validated:
    """One upload's verdict against the contract (staged's `schema_valid`); a refused
    upload's says where it went (`quarantined_to`) and why (`error`)."""

    partition: str
    source: str
    problems: list[Problem]
    total: int
    rows: int
    quarantined_to: str = ""
    error: str = ""


@dataclass(frozen=True)
class Profiled:
    """One upload's profile (written to `profiles.<name>` unless refused) and its drift
    against the reference (staged's `drift` check): `refused` when the drift blocked it."""

    partition: str
    write: WriteResult | None
    profile: Profile
    drift: DriftReport
    plot: bytes | None
    refused: bool


IngestResult = LayerWritten | Validated | Profiled


class IngestFailed(Exception):
    """The run fails, and a retry would not help: the error is deterministic (the upload, or
    the contract against the tables), not a passing failure of the store or the catalog."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class ContractMismatch(IngestFailed):
    """The contract and a layer's table disagree (a column narrowed, removed or retyped):
    no retry changes that; the upload stays in landing until they agree."""


class UploadMissing(IngestFailed):
    """An upload of the run is neither in landing nor in the archive."""


class ReplayRefused(IngestFailed):
    """Raw rows re-validated from the lake break the contract: staged, transformed unpublished."""


class UploadRefused(IngestFailed):
    """Uploads of the run were refused: their staged and transformed rows unpublished, the
    uploads quarantined (the run's other uploads published). For one refused upload the
    values are its own; for several, `quarantined_to` names the first and the description
    lists them all."""

    def __init__(
        self, description: str, quarantined_to: str, problem_count: int, raw_snapshot: str
    ) -> None:
        super().__init__(description)
        self.quarantined_to = quarantined_to
        self.problem_count = problem_count
        self.raw_snapshot = raw_snapshot
