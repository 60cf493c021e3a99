"""Integrity: SHA-256 recorded at upload (``x-amz-meta-sha256``), compared after download.

ETags cannot serve: a multipart ETag is an MD5 of part MD5s, so it changes with the part
size and says nothing a reader can recompute without knowing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from data_platform.storage.errors import IntegrityError, InvalidName
from data_platform.storage.models import CHECKSUM_META
from data_platform.storage.names import check_metadata

Progress = Callable[[int], None]
"""Called with the number of bytes just sent or received."""

_CHUNK = 1024 * 1024


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 hex of a local file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def upload_metadata(metadata: Mapping[str, str] | None, checksum: str | None) -> dict[str, str]:
    """User metadata plus the reserved checksum entry; the user may not set that key."""
    meta = dict(metadata or {})
    check_metadata(meta)
    if any(k.lower() == CHECKSUM_META for k in meta):
        raise InvalidName(f"metadata key {CHECKSUM_META!r} is reserved for the content checksum")
    if checksum:
        meta[CHECKSUM_META] = checksum
    return meta


def verify(expected: str | None, actual: str, *, bucket: str, key: str) -> None:
    """Raise IntegrityError when a known checksum differs from the received bytes'."""
    if expected and expected.lower() != actual:
        raise IntegrityError(
            f"checksum mismatch: expected sha256 {expected}, received {actual}",
            bucket=bucket,
            key=key,
        )


class HashingReader:
    """A read-only stream wrapper that hashes and counts what passes through it.

    The SDK reads the upload body from it part by part, so hashing and progress cost no
    second pass over the data, also for streams of unknown length.
    """

    def __init__(self, raw: BinaryIO, progress: Progress | None = None) -> None:
        self._raw = raw
        self._progress = progress
        self._digest = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._digest.update(data)
            self.bytes_read += len(data)
            if self._progress is not None:
                self._progress(len(data))
        return data

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


@dataclass(frozen=True)
class Fetched:
    """A whole object read into memory, with the SHA-256 recorded at its upload (if any).

    `verify()` checks the bytes against it; a caller may run that while it parses them.
    """

    bucket: str
    key: str
    data: bytes
    recorded: str | None

    def verify(self) -> None:
        """Raise IntegrityError if the bytes differ from the checksum recorded at upload."""
        verify(self.recorded, sha256_bytes(self.data), bucket=self.bucket, key=self.key)
