"""A mergeable distinct-count sketch: the K smallest hashes of a column's values (KMV).

The estimator is a theta sketch's (Bar-Yossef et al.; DataSketches' `theta_sketch` is the
same idea): keep the K smallest distinct 64-bit hashes; below K values the count is exact,
above it the K-th smallest hash `t` says how dense the hashes are: about (K - 1) * 2^64 / t
distinct values, with a relative standard error of 1 / sqrt(K - 2) (1.6% at K = 4,096).
Merging is a union of the kept hashes, cut back to the K smallest: the merge of any set of
uploads' sketches is the sketch of their rows, without a rescan.

Why not DataSketches' HLL: its Python binding updates one value per call, 0.3 s per
million values per column, the whole budget of a profile (`docs/profiles.md`). Here a
batch's values are hashed vectorised (xxh3 for text, by polars-hash; splitmix64 of the bit
pattern for numbers), both stable across processes, machines and versions, so sketches
written by any run merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import polars_hash as plh

K = 4096
PROBE = 8192  # a batch whose first values repeat this much is hashed after a unique()
SCHEME = b"KMV1"  # serialised: the scheme, then the hashes as little-endian uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def splitmix64(bits: np.ndarray) -> np.ndarray:
    """A stable 64-bit mix of 64-bit patterns (Steele et al.'s SplitMix64 finaliser)."""
    with np.errstate(over="ignore"):
        z = bits.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def hashes(values: pl.Series) -> np.ndarray:
    """Stable 64-bit hashes of non-null values: xxh3 of text, splitmix64 of numbers' bits."""
    dtype = values.dtype
    if dtype == pl.String:
        hashed = values.to_frame("v").select(plh.col("v").nchash.xxh3_64()).to_series()
        return hashed.to_numpy()
    if dtype.is_numeric() or dtype.is_temporal():
        if dtype.is_float():
            # -0.0 and 0.0 are one value; every NaN is one value
            numbers = values.cast(pl.Float64).to_numpy().copy()
            numbers[numbers == 0.0] = 0.0
            numbers[np.isnan(numbers)] = np.nan
            bits = numbers.view(np.uint64)
        else:
            bits = values.to_physical().cast(pl.Int64).to_numpy().view(np.uint64)
        return splitmix64(bits)
    return hashes(values.cast(pl.String))  # booleans, lists: as their text


def smallest(pooled: np.ndarray) -> np.ndarray:
    """The K smallest distinct values of `pooled` hashes, sorted, in linear time.

    The K smallest values (with repeats) are found by a partition; if repeats leave fewer
    than K distinct among them, the distinct ones seen so far say how dense distinct hashes
    are, and every hash up to a bound that should hold K of them is taken, until it does.
    """
    if pooled.size <= K:
        return np.unique(pooled)
    head = np.partition(pooled, K - 1)[:K]
    found = np.unique(head)
    bound, top = int(head.max()), 2**64 - 1
    while found.size < K:
        if bound >= top:  # every hash taken: fewer than K distinct in all
            return found
        bound = min(int(bound * (K / max(found.size, 1)) * 1.25) + 1, top)
        found = np.unique(pooled[pooled <= np.uint64(bound)])
    return found[:K]


@dataclass
class Distinct:
    """The K smallest distinct hashes seen (sorted)."""

    kept: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))

    def update(self, values: pl.Series) -> None:
        """Add a batch's non-null values."""
        if not values.len():
            return
        if values.len() > PROBE and values.head(PROBE).n_unique() < PROBE // 8:
            values = values.unique()  # few values, repeated: hash each once
        self._keep(hashes(values))

    def merge(self, other: Distinct) -> None:
        self._keep(other.kept)

    def _keep(self, new: np.ndarray) -> None:
        if self.kept.size >= K:  # only hashes below the K-th can change the sketch
            new = new[new < self.kept[-1]]
        if new.size:
            self.kept = smallest(np.concatenate([self.kept, new]))

    @classmethod
    def union(cls, sketches: list[Distinct]) -> Distinct:
        """The merge of many sketches in one pass (their hashes pooled, the K smallest kept)."""
        parts = [s.kept for s in sketches if s.kept.size]
        return cls(smallest(np.concatenate(parts))) if parts else cls()

    @property
    def estimate(self) -> float:
        if self.kept.size < K:
            return float(self.kept.size)  # every distinct value is kept: exact
        return (K - 1) / (float(self.kept[-1]) / 2.0**64)

    @property
    def exact(self) -> bool:
        return self.kept.size < K

    def serialize(self) -> bytes:
        return SCHEME + self.kept.astype("<u8").tobytes()

    @classmethod
    def deserialize(cls, data: bytes) -> Distinct:
        if not data.startswith(SCHEME):
            raise ValueError("not a KMV1 distinct-count sketch")
        return cls(np.frombuffer(data[len(SCHEME) :], dtype="<u8").astype(np.uint64))
