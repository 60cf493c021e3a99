"""Typed records the store returns, and their conversion from the SDK's objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CHECKSUM_META = "sha256"
"""User-metadata key (``x-amz-meta-sha256``) under which uploads record their SHA-256."""

_META_PREFIX = "x-amz-meta-"


@dataclass(frozen=True)
class ObjectInfo:
    """What the store says about one object (or, in a non-recursive listing, one prefix).

    Attributes:
        key: The object key (a prefix ending in '/' when `is_prefix`).
        size: Bytes.
        etag: Entity tag without quotes; multipart uploads end in ``-<parts>``.
        last_modified: Server time of the last write.
        content_type: The Content-Type stored with the object (stat only).
        metadata: User metadata, keys lower-cased, without ``x-amz-meta-`` and without
            the reserved checksum key (stat only; listings leave it empty).
        version_id: Set in versioned buckets.
        tags: Object tags, only when asked for (``stat(key, with_tags=True)``).
        is_prefix: A common prefix of a non-recursive listing, not an object.
        checksum: SHA-256 hex of the content as recorded at upload (``x-amz-meta-sha256``)
            or, for `put_stream`, as computed while sending; None when unknown.
    """

    key: str
    size: int
    etag: str
    last_modified: datetime | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None
    tags: dict[str, str] | None = None
    is_prefix: bool = False
    checksum: str | None = None


@dataclass(frozen=True)
class ObjectVersion:
    """One version of a key in a versioned bucket, or a delete marker."""

    key: str
    version_id: str
    size: int
    etag: str
    last_modified: datetime | None
    is_latest: bool
    is_delete_marker: bool


@dataclass(frozen=True)
class BucketInfo:
    """A bucket and when it was created."""

    name: str
    created: datetime | None


@dataclass(frozen=True)
class ListPage:
    """One page of a listing; pass `next_start_after` back to get the next page."""

    items: tuple[ObjectInfo, ...]
    next_start_after: str | None

    @property
    def is_last(self) -> bool:
        return self.next_start_after is None


def split_metadata(headers: Mapping[str, str] | None) -> tuple[dict[str, str], str | None]:
    """User metadata from response headers, and the recorded checksum apart from it."""
    meta = {
        k.lower().removeprefix(_META_PREFIX): v
        for k, v in (headers or {}).items()
        if k.lower().startswith(_META_PREFIX)
    }
    checksum = meta.pop(CHECKSUM_META, None)
    return meta, checksum


def object_info(obj: Any, *, tags: dict[str, str] | None = None) -> ObjectInfo:
    """An `ObjectInfo` from the SDK's `Object` (stat or listing entry)."""
    meta, checksum = split_metadata(obj.metadata)
    return ObjectInfo(
        key=obj.object_name,
        size=obj.size or 0,
        etag=(obj.etag or "").strip('"'),
        last_modified=obj.last_modified,
        content_type=obj.content_type,
        metadata=meta,
        version_id=obj.version_id,
        tags=tags,
        is_prefix=bool(obj.is_dir),
        checksum=checksum,
    )


def object_version(obj: Any) -> ObjectVersion:
    """An `ObjectVersion` from a versioned listing entry (the SDK gives is_latest as text)."""
    return ObjectVersion(
        key=obj.object_name,
        version_id=obj.version_id or "null",
        size=obj.size or 0,
        etag=(obj.etag or "").strip('"'),
        last_modified=obj.last_modified,
        is_latest=str(obj.is_latest).lower() == "true",
        is_delete_marker=bool(obj.is_delete_marker),
    )
