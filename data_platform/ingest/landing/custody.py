"""Moving an upload out of landing: to the archive once ingested, to quarantine if refused.

Every move is of the version that was ingested (`ObjectStore.move` with its ETag): one
conditional rename where the store has S3's RenameObject (the embedded SeaweedFS), else a
conditional copy and a conditional delete. A newer upload to the same key is never
archived or quarantined by the run of an older one: it stays in landing for its own run.
Bytes are never lost: a rename is atomic, and a copy exists before the original goes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from data_platform.ingest.problems import Problem
from data_platform.settings import Settings
from data_platform.storage import Conflict, NotFound, ObjectStore

ERROR_SUFFIX = ".error.json"


@dataclass(frozen=True)
class Quarantined:
    """Where a refused upload went, or why it did not move."""

    key: str | None  # the quarantined copy; None when a newer upload had replaced it
    note: str


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantined upload version, with the reason it was refused."""

    key: str
    dataset: str
    partition: str
    etag: str
    quarantined_at: str
    error: str
    size: int
    # the whole `.error.json`: every recorded problem
    report: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def id(self) -> str:
        """A short handle for the key (`quarantine show|retry` take either)."""
        return short_id(self.key)

    @property
    def problem_count(self) -> int:
        """How many problems the upload had (more than are recorded, for a long list)."""
        count = self.report.get("problem_count")
        return count if isinstance(count, int) else len(self.problems())

    def problems(self) -> list[str]:
        """Each recorded problem in words (row, column, reason, value); the summary if the
        report lists none."""
        known = {f.name for f in fields(Problem)}
        described = [
            Problem(**{k: v for k, v in p.items() if k in known}).describe()
            for p in self.report.get("problems") or []
            if isinstance(p, dict) and "reason" in p
        ]
        return described or ([self.error] if self.error else [])


def short_id(key: str) -> str:
    """Eight hex digits naming a quarantine key, as a short commit id names a commit."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class Custody:
    """The landing, archive and quarantine prefixes of one store, for every dataset."""

    def __init__(self, store: ObjectStore, settings: Settings) -> None:
        self.store = store
        self.landing = settings.landing_prefix.rstrip("/") + "/"
        self.archive = settings.archive_prefix.rstrip("/") + "/"
        self.quarantine_root = settings.quarantine_prefix.rstrip("/") + "/"

    # -- keys ----------------------------------------------------------------------------
    def landing_key(self, dataset: str, partition: str) -> str:
        return f"{self.landing}{dataset}/{partition}"

    def archive_key(self, dataset: str, partition: str) -> str:
        return f"{self.archive}{dataset}/{partition}"

    def quarantine_key(self, dataset: str, partition: str, etag: str, when: datetime) -> str:
        stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
        return f"{self.quarantine_root}{dataset}/{stamp}-{etag.strip(chr(34))[:12]}/{partition}"

    def source_of(self, dataset: str, partition: str) -> str:
        """Where a partition's bytes are now: landing (new upload) or the archive."""
        landing = self.landing_key(dataset, partition)
        if self.store.exists(landing):
            return landing
        archived = self.archive_key(dataset, partition)
        if self.store.exists(archived):
            return archived
        raise NotFound(
            f"upload {partition!r} of {dataset} is neither in landing nor in the archive "
            "(deleted, or quarantined: `data-platform quarantine list`)",
            bucket=self.store.bucket,
            key=landing,
        )

    # -- moves -----------------------------------------------------------------------------
    def archive_upload(self, dataset: str, partition: str, etag: str) -> str | None:
        """Move the ingested version out of landing; None if it was replaced meanwhile."""
        landing = self.landing_key(dataset, partition)
        target = self.archive_key(dataset, partition)
        return target if self._move(landing, target, etag) else None

    def quarantine(
        self, dataset: str, partition: str, source: str, etag: str, report: dict[str, Any]
    ) -> Quarantined:
        """Move `source` (the refused version `etag`) to a new quarantine folder, with why."""
        when = datetime.now(UTC)
        target = self.quarantine_key(dataset, partition, etag, when)
        body = {
            "dataset": dataset,
            "partition": partition,
            "source": f"s3://{self.store.bucket}/{source}",
            "etag": etag,
            "quarantined_at": when.isoformat(),
            **report,
        }
        # the report first: a move that then fails leaves the upload in landing, where it
        # is found again; a report without its upload is never listed (`quarantined`)
        report_key = target + ERROR_SUFFIX
        self.store.put_bytes(
            report_key,
            json.dumps(body, indent=2, default=str).encode(),
            content_type="application/json",
        )
        try:
            self.store.move(source, target, if_match=etag)
        except Conflict:
            self.store.delete(report_key, missing_ok=True)
            return Quarantined(None, "a newer upload replaced it: left in landing for its run")
        except NotFound:
            self.store.delete(report_key, missing_ok=True)
            return Quarantined(None, "not found at its key (already moved?)")
        return Quarantined(target, f"moved to s3://{self.store.bucket}/{target}")

    def _move(self, source: str, target: str, etag: str) -> bool:
        try:
            self.store.move(source, target, if_match=etag)
        except (Conflict, NotFound):
            return False
        return True

    # -- the quarantine ---------------------------------------------------------------------
    def quarantined(self, dataset: str | None = None) -> list[QuarantineEntry]:
        """Every quarantined upload version (of `dataset`, or of all), oldest first."""
        prefix = self.quarantine_root + (f"{dataset}/" if dataset else "")
        entries = []
        for info in self.store.list(prefix, recursive=True):
            if not info.key.endswith(ERROR_SUFFIX):
                continue
            entry = self._entry(info.key.removesuffix(ERROR_SUFFIX))
            if entry is not None:
                entries.append(entry)
        return sorted(entries, key=lambda e: e.quarantined_at)

    def find(self, ref: str) -> QuarantineEntry:
        """The quarantined upload named by its key, or by its short id (a prefix of it).

        Raises:
            NotFound: No quarantined upload has that key or id, or the id is ambiguous.
        """
        if ref.startswith(self.quarantine_root):
            entry = self._entry(ref)
            matches = [entry] if entry is not None else []
        else:
            matches = [e for e in self.quarantined() if len(ref) >= 4 and e.id.startswith(ref)]
        if len(matches) != 1:
            why = "names several: give more of the id" if matches else "names none"
            raise NotFound(
                f"no quarantined upload {ref!r}: it {why} (a key, or an id of 4 to 8 "
                "characters, from `data-platform quarantine list`)"
            )
        return matches[0]

    def _entry(self, key: str) -> QuarantineEntry | None:
        try:
            report = json.loads(self.store.get_bytes(key + ERROR_SUFFIX))
            size = self.store.stat(key).size
        except (NotFound, ValueError):
            return None  # retried (the upload went back to landing) or unreadable
        if not isinstance(report, dict):
            return None
        return QuarantineEntry(
            key=key,
            dataset=report.get("dataset", ""),
            partition=report.get("partition", ""),
            etag=report.get("etag", ""),
            quarantined_at=report.get("quarantined_at", ""),
            error=report.get("error", ""),
            size=size,
            report=report,
        )

    def retry(self, entry: QuarantineEntry) -> str:
        """Put a quarantined upload back into landing (the bytes unchanged); its key there.

        The quarantined copy and its report are removed once the copy is in landing; if
        ingestion refuses it again, it comes back to quarantine as a new version.
        """
        target = self.landing_key(entry.dataset, entry.partition)
        self.store.copy(entry.key, target)
        self.store.delete(entry.key + ERROR_SUFFIX, missing_ok=True)
        self.store.delete(entry.key, missing_ok=True)
        return target
