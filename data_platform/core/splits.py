"""Stable train/validation splits: a row's side depends on its id only, never on order.

The hash is BLAKE2b of the id, so the split is the same on every run, machine and
library version (polars' own hash is documented as unstable across versions).
"""

from __future__ import annotations

import hashlib

import polars as pl

BUCKETS = 10_000


def _bucket(value: str, salt: bytes) -> int:
    digest = hashlib.blake2b(value.encode(), digest_size=8, key=salt).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def is_holdout(ids: pl.Series, share: float = 0.2, salt: str = "data_platform") -> pl.Series:
    """True for about `share` of `ids`, the same ids on every run and machine."""
    key = salt.encode()
    buckets = [_bucket(str(v), key) for v in ids.to_list()]
    return pl.Series("is_holdout", buckets, dtype=pl.Int64) < int(share * BUCKETS)
