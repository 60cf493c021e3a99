"""Bucket-name and object-key rules, checked before any request is sent."""

from __future__ import annotations

import re

from data_platform.storage.errors import InvalidName

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def check_bucket_name(bucket: str) -> None:
    """Raise InvalidName unless `bucket` follows the S3 bucket naming rules."""
    if not _BUCKET.match(bucket) or ".." in bucket or _IPV4.match(bucket):
        raise InvalidName(
            f"invalid bucket name {bucket!r}: 3-63 characters of a-z, 0-9, '.', '-', "
            "starting and ending with a letter or digit"
        )


def check_key(key: str) -> None:
    """Raise InvalidName for empty, absolute, traversing or control-character keys."""
    if not key:
        raise InvalidName("empty object key")
    if key.startswith("/"):
        raise InvalidName(f"unsafe object key {key!r}: leading '/'")
    if any(part == ".." for part in key.split("/")):
        raise InvalidName(f"unsafe object key {key!r}: '..' segment")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidName(f"unsafe object key {key!r}: control character")
    if len(key.encode()) > 1024:
        raise InvalidName(f"object key too long ({len(key.encode())} bytes > 1024)")


def check_prefix(prefix: str) -> None:
    """Like `check_key`, but the empty prefix (the whole bucket) is allowed."""
    if prefix:
        check_key(prefix)


_META_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024 * 1024 * 1024


def check_metadata(metadata: dict[str, str]) -> None:
    """Raise InvalidName for metadata that HTTP headers cannot carry unchanged.

    Keys must be simple header tokens (they are sent as ``x-amz-meta-<key>`` and come back
    lower-cased); values must be printable ASCII.
    """
    for name, value in metadata.items():
        if not _META_KEY.match(name):
            raise InvalidName(f"invalid metadata key {name!r}: use letters, digits, '-', '_', '.'")
        if not value.isascii() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InvalidName(f"invalid metadata value for {name!r}: printable ASCII only")


def check_part_size(part_size: int) -> None:
    """Raise ValueError unless `part_size` is within S3's 5 MiB - 5 GiB part limits."""
    if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        raise ValueError(
            f"part size {part_size} bytes is outside S3's limits (5 MiB to 5 GiB per part)"
        )
