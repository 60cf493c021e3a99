"""The one stable split: a row's side depends on its id only, never on order or run.

`stable_unit` maps an id to [0, 1) with SHA-256, so the split is the same on every run,
machine and library version (polars' own hash is documented as unstable across versions).
The inference hold-out (`is_holdout`) and the training-file export (`split_for`) use the
same function, so a record held out from one is in validation in the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import polars as pl


def stable_unit(value: str) -> float:
    """A number in [0, 1) from `value` alone: same on every run, machine and library version."""
    digest = hashlib.sha256(value.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_for(ids: Sequence[str], validation_fraction: float = 0.2) -> list[str]:
    """`train` or `validation` per id, decided by a hash of the id (stable across re-runs)."""
    if not 0.0 <= validation_fraction <= 1.0:
        raise ValueError(f"validation_fraction must be within [0, 1], got {validation_fraction}")
    return ["validation" if stable_unit(i) < validation_fraction else "train" for i in ids]


def is_holdout(ids: pl.Series, share: float = 0.2) -> pl.Series:
    """True for about `share` of `ids`: the ids `split_for` puts in validation."""
    sides = split_for([str(v) for v in ids.to_list()], share)
    return pl.Series("is_holdout", [side == "validation" for side in sides], dtype=pl.Boolean)
