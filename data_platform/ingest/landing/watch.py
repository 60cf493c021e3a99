"""What is new in landing: the sensor's listing and its small cursor.

Landing holds only uploads not yet ingested (ingested ones move to the archive), so a
listing costs what is pending, not what was ever uploaded. The cursor remembers the
version (ETag and upload time) of each pending upload already asked for, so one upload is
asked for once; an upload copied back from quarantine, or re-uploaded with the same bytes,
has a new upload time and is asked for again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from data_platform.storage import ObjectStore


@dataclass(frozen=True)
class LandingChange:
    """A pending upload version: its partition key and a run key unique to the version."""

    partition: str
    etag: str
    version: str

    @property
    def run_key(self) -> str:
        return f"{self.partition}@{self.version}"


def pending_uploads(store: ObjectStore, prefix: str) -> dict[str, tuple[str, str]]:
    """Partition key -> (ETag, version) of every object under `prefix`."""
    found = {}
    for info in store.list(prefix, recursive=True):
        if info.key.endswith("/"):
            continue  # a folder marker is not an upload
        modified = info.last_modified.isoformat() if info.last_modified else ""
        found[info.key.removeprefix(prefix)] = (info.etag, f"{info.etag}@{modified}")
    return found


def changes_since(
    pending: dict[str, tuple[str, str]], cursor: str | None
) -> tuple[list[LandingChange], str]:
    """Versions not asked for yet, and the next cursor (pending uploads only)."""
    seen: dict[str, str] = json.loads(cursor) if cursor else {}
    if not isinstance(seen, dict):
        seen = {}
    changed = [
        LandingChange(partition, etag, version)
        for partition, (etag, version) in sorted(pending.items())
        if seen.get(partition) != version
    ]
    state = {partition: version for partition, (_, version) in pending.items()}
    return changed, json.dumps(state, sort_keys=True, separators=(",", ":"))
