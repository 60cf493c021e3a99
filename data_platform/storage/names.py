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
