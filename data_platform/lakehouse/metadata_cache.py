"""Iceberg metadata files read once per process.

Every load, scan plan, commit and validation reads metadata files: the table's metadata
JSON (each load, and again inside each commit, to compare), its snapshot's manifest list,
and the manifests (an S3 GET and a decode each). One ingest run loads and plans each table
several times: the key check, the partitions a commit replaces, the liveness of the files a
delete names. None of these files is ever changed once written (a new one, under a new
name, replaces it), so what they hold can be kept by path. This wraps pyiceberg's readers
with bounded caches (least recently used out):

- `FromInputFile.table_metadata` (table metadata, by location; a metadata file this
  process writes is kept as it is written, so the load after a commit reads nothing);
- `Snapshot.manifests` (a manifest list, by path);
- `ManifestFile.fetch_manifest_entry` (a manifest's entries, by path; `MAX_ENTRIES` in all).

Callers get a new list each time; the objects themselves are shared and, as in pyiceberg
(frozen models, entries no one modifies), not modified.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pyiceberg.io import FileIO, InputFile, OutputFile
from pyiceberg.manifest import ManifestEntry, ManifestFile
from pyiceberg.serializers import FromInputFile, ToOutputFile
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Snapshot

MAX_ENTRIES = 50_000  # manifest entries, a few KB each: at most ~150 MB
MAX_LISTS = 512  # manifest lists (a few hundred bytes per manifest they name)
MAX_METADATA = 64  # table metadata (grows with a table's snapshots and schemas)


class _Cache:
    """A thread-safe LRU map whose size is counted by `weight` of each value."""

    def __init__(self, limit: int, weight: Any = lambda value: 1) -> None:
        self.limit, self.weight = limit, weight
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.held = 0
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.held += self.weight(value)
            while self.held > self.limit and len(self.items) > 1:
                _, dropped = self.items.popitem(last=False)
                self.held -= self.weight(dropped)

    def clear(self) -> int:
        with self.lock:
            held = len(self.items)
            self.items.clear()
            self.held = 0
            return held


_entries = _Cache(MAX_ENTRIES, len)
_lists = _Cache(MAX_LISTS)
_metadata = _Cache(MAX_METADATA)

_fetch_entries = ManifestFile.fetch_manifest_entry
_snapshot_manifests = Snapshot.manifests
_read_metadata = FromInputFile.table_metadata
_write_metadata = ToOutputFile.table_metadata


def _fetch(self: ManifestFile, io: FileIO, discard_deleted: bool = True) -> list[ManifestEntry]:
    key = (self.manifest_path, discard_deleted)
    entries = _entries.get(key)
    if entries is None:
        entries = _fetch_entries(self, io, discard_deleted)
        _entries.put(key, entries)
    return list(entries)


def _manifests(self: Snapshot, io: FileIO) -> list[ManifestFile]:
    manifests = _lists.get(self.manifest_list)
    if manifests is None:
        manifests = _snapshot_manifests(self, io)
        _lists.put(self.manifest_list, manifests)
    return list(manifests)


def _read(input_file: InputFile, encoding: str = "utf-8") -> TableMetadata:
    metadata: TableMetadata | None = _metadata.get(input_file.location)
    if metadata is None:
        metadata = _read_metadata(input_file, encoding)
        _metadata.put(input_file.location, metadata)
    return metadata


def _write(metadata: TableMetadata, output_file: OutputFile, overwrite: bool = False) -> None:
    _write_metadata(metadata, output_file, overwrite)
    _metadata.put(output_file.location, metadata)


def install() -> None:
    """Read each metadata file once (idempotent)."""
    ManifestFile.fetch_manifest_entry = _fetch  # type: ignore[method-assign]
    Snapshot.manifests = _manifests  # type: ignore[method-assign]
    FromInputFile.table_metadata = staticmethod(_read)  # type: ignore[method-assign]
    ToOutputFile.table_metadata = staticmethod(_write)  # type: ignore[method-assign]


def clear() -> dict[str, int]:
    """Forget every metadata file read; how many of each were held."""
    return {
        "manifests": _entries.clear(),
        "manifest_lists": _lists.clear(),
        "metadata": _metadata.clear(),
    }
