"""Manifests read once per process.

Every scan plan, commit and validation reads the table's manifests (an S3 GET and an Avro
decode each), and one ingest run plans each table several times: the key check, the
partitions a commit replaces, the liveness of the files a delete names. An Iceberg manifest
is never changed once written (a new one, under a new name, replaces it), so its entries
can be kept by path: this wraps pyiceberg's `ManifestFile.fetch_manifest_entry` with a
bounded cache (least recently used out beyond `MAX_ENTRIES` entries in all). Callers get a
new list each time; the entries themselves are shared and, as in pyiceberg, not modified.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pyiceberg.io import FileIO
from pyiceberg.manifest import ManifestEntry, ManifestFile

MAX_ENTRIES = 50_000  # a few KB each: at most ~150 MB

_read = ManifestFile.fetch_manifest_entry
_cache: OrderedDict[tuple[str, bool], list[ManifestEntry]] = OrderedDict()
_held = 0
_lock = threading.Lock()


def _fetch(self: ManifestFile, io: FileIO, discard_deleted: bool = True) -> list[ManifestEntry]:
    global _held
    key = (self.manifest_path, discard_deleted)
    with _lock:
        entries = _cache.get(key)
        if entries is not None:
            _cache.move_to_end(key)
            return list(entries)
    entries = _read(self, io, discard_deleted)
    with _lock:
        if key not in _cache:
            _cache[key] = entries
            _held += len(entries)
            while _held > MAX_ENTRIES and len(_cache) > 1:
                _, dropped = _cache.popitem(last=False)
                _held -= len(dropped)
    return list(entries)


def install() -> None:
    """Read each manifest once (idempotent)."""
    ManifestFile.fetch_manifest_entry = _fetch  # type: ignore[method-assign]


def clear() -> dict[str, Any]:
    """Forget every manifest read; what was held."""
    global _held
    with _lock:
        held = {"manifests": len(_cache), "entries": _held}
        _cache.clear()
        _held = 0
    return held
