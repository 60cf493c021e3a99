"""What is pending in landing, and which batches of it to ask for next (the sensor's plan).

Landing holds only uploads not yet ingested (ingested ones move to the archive or to
quarantine), so a listing costs what is pending, not what was ever uploaded. A tick turns
what is pending and not yet asked for into **batches** (Databricks Auto Loader's
micro-batches, bounded by `maxFilesPerTrigger` and `maxBytesPerTrigger`): at most
`batch_files` uploads and `batch_mb` megabytes each (a larger upload alone), oldest first,
at most `max_runs` batches a tick and `max_in_flight` uploads asked for and not yet out of
landing, so a backlog of any size costs a bounded tick, a bounded cursor and bounded runs.

The cursor remembers, per batch asked for, when it was asked for and a short digest of
each upload version in it (ETag and upload time) still pending: one upload version is
asked for once; an upload copied back from quarantine, or re-uploaded with the same bytes,
has a new upload time and is asked for again. A batch whose uploads are still pending
`retry_after_s` after it was asked for (its run failed for good, or waited for a contract
to be fixed) is forgotten, unless its run is still going, and its uploads are asked for
again.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from data_platform.storage import ObjectStore

CURSOR_VERSION = 2
DIGEST_BYTES = 8  # 11 characters in base64url: 2,000 uploads in flight fit in 22 KB
DIGEST_CHARS = 11


@dataclass(frozen=True)
class PendingUpload:
    """An object in landing: its partition key (the key below the dataset's prefix) and
    version (ETag and upload time)."""

    partition: str
    etag: str
    size: int
    modified: str  # ISO 8601, "" when the store gave none

    @property
    def version(self) -> str:
        return f"{self.etag}@{self.modified}"

    @property
    def digest(self) -> str:
        raw = hashlib.blake2b(
            f"{self.partition}\0{self.version}".encode(), digest_size=DIGEST_BYTES
        ).digest()
        return base64.urlsafe_b64encode(raw).decode()[:DIGEST_CHARS]


@dataclass(frozen=True)
class BatchLimits:
    """How much one batch, one tick and the uploads in flight may hold."""

    batch_files: int = 500
    batch_mb: int = 256
    max_runs: int = 8
    max_in_flight: int = 2000
    retry_after_s: float = 900.0


@dataclass(frozen=True)
class Batch:
    """Uploads to ingest in one run. `new`: partitions not known to Dagster yet (added in
    this order, so the run can ask for them as one range); otherwise a single known one."""

    id: str
    uploads: tuple[PendingUpload, ...]
    new: bool

    @property
    def partitions(self) -> list[str]:
        return [u.partition for u in self.uploads]

    @property
    def run_key(self) -> str:
        first = self.uploads[0]
        if len(self.uploads) == 1:
            return f"{first.partition}@{first.version}"
        return f"batch-{self.id}: {len(self.uploads)} uploads from {first.partition}"

    @property
    def bytes(self) -> int:
        return sum(u.size for u in self.uploads)


@dataclass(frozen=True)
class Plan:
    """What a tick asks for, the next cursor, and what it saw (for its skip message)."""

    batches: list[Batch]
    cursor: str
    pending: int
    in_flight: int
    expired: list[str]  # ids of batches asked for again (their runs ended, uploads pending)


def pending_uploads(store: ObjectStore, prefix: str) -> dict[str, PendingUpload]:
    """Partition key -> the pending upload, for every object under `prefix`."""
    found = {}
    for info in store.list(prefix, recursive=True):
        if info.key.endswith("/"):
            continue  # a folder marker is not an upload
        modified = info.last_modified.isoformat() if info.last_modified else ""
        partition = info.key.removeprefix(prefix)
        found[partition] = PendingUpload(partition, info.etag, info.size, modified)
    return found


def plan_batches(
    pending: dict[str, PendingUpload],
    cursor: str | None,
    *,
    limits: BatchLimits,
    known: Callable[[list[str]], set[str]],
    running: Callable[[str], bool] = lambda _: False,
    now: float | None = None,
    contract: str = "",
) -> Plan:
    """The batches to ask for now, oldest uploads first, and the next cursor.

    `known(partitions)`: which of them Dagster already has as partitions (a re-upload, a
    retry from quarantine); each of those is asked for alone, since a run's range can only
    span partitions added together. `running(batch_id)`: whether a run of that batch is
    still queued or going (asked only of batches past `retry_after_s`). `contract`: the
    contract's fingerprint; when it differs from the one the cursor was written under,
    uploads still pending are asked for again at once (they may have waited for it).
    """
    now = datetime.now(UTC).timestamp() if now is None else now
    by_digest = {u.digest: u for u in pending.values()}
    kept: list[tuple[float, str, str]] = []
    expired: list[str] = []
    entries, written_under = _read_cursor(cursor)
    changed = bool(contract) and written_under != contract
    for asked_at, batch_id, digests in entries:
        still = "".join(
            d for d in _chunks(digests) if d in by_digest
        )  # out of landing: done (published or quarantined)
        if not still:
            continue
        if (changed or now - asked_at > limits.retry_after_s) and not running(batch_id):
            expired.append(batch_id)
            continue
        kept.append((asked_at, batch_id, still))
    asked = {d for _, _, digests in kept for d in _chunks(digests)}
    room = limits.max_in_flight - len(asked)
    waiting = sorted(
        (u for d, u in by_digest.items() if d not in asked),
        key=lambda u: (u.modified, u.partition),
    )
    batches: list[Batch] = []
    if room > 0 and waiting:
        candidates = waiting[:room]
        existing = known([u.partition for u in candidates])
        batches = _cut(candidates, existing, limits)
    for batch in batches:
        kept.append((now, batch.id, "".join(u.digest for u in batch.uploads)))
    state = {
        "v": CURSOR_VERSION,
        "contract": contract,
        "asked": [[round(t), i, d] for t, i, d in kept],
    }
    return Plan(
        batches=batches,
        cursor=json.dumps(state, separators=(",", ":")),
        pending=len(pending),
        in_flight=len(asked) + sum(len(b.uploads) for b in batches),
        expired=expired,
    )


def _cut(uploads: list[PendingUpload], existing: set[str], limits: BatchLimits) -> list[Batch]:
    """Batches of at most `batch_files` uploads and `batch_mb` MB (a larger upload alone);
    a known partition is a batch of its own; at most `max_runs` batches."""
    budget = limits.batch_mb * 1024 * 1024
    batches: list[Batch] = []
    current: list[PendingUpload] = []

    def close() -> None:
        if current:
            batches.append(_batch(current, new=True))
            current.clear()

    for upload in uploads:
        if len(batches) >= limits.max_runs:
            break
        if upload.partition in existing:
            batches.append(_batch([upload], new=False))
            continue
        size = sum(u.size for u in current)
        if current and (len(current) >= limits.batch_files or size + upload.size > budget):
            close()
            if len(batches) >= limits.max_runs:
                break
        current.append(upload)
    if len(batches) < limits.max_runs:
        close()
    return batches[: limits.max_runs]


def _batch(uploads: Iterable[PendingUpload], *, new: bool) -> Batch:
    members = tuple(uploads)
    digest = hashlib.blake2b("".join(u.digest for u in members).encode(), digest_size=6).hexdigest()
    return Batch(digest, members, new)


def _chunks(digests: str) -> Iterable[str]:
    return (digests[i : i + DIGEST_CHARS] for i in range(0, len(digests), DIGEST_CHARS))


def _read_cursor(cursor: str | None) -> tuple[list[tuple[float, str, str]], str]:
    """The batches asked for, and the contract they were asked under; an unreadable or
    older cursor is no batch (each pending upload is asked for once more: ingestion is
    idempotent per upload)."""
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        return [], ""
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        return [], ""
    entries = []
    for entry in state.get("asked", []):
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], int | float)
            and isinstance(entry[1], str)
            and isinstance(entry[2], str)
        ):
            entries.append((float(entry[0]), entry[1], entry[2]))
    written_under = state.get("contract")
    return entries, written_under if isinstance(written_under, str) else ""
