"""One column's profile: exact counts and moments, and mergeable sketches of its values.

What a column's profile holds depends on its kind (`kind_of`):
- `number`, `time` (dates as days, datetimes as seconds since 1970): min, max, mean, standard
  deviation (Chan's parallel moments), quantiles and histograms (DataSketches' KLL);
- `category` (strings that are not free text, booleans, the label): the most frequent values
  with their counts (DataSketches' frequent items: exact while a column has fewer distinct
  values than the sketch holds, which is the point of a category);
- `text` (the contract's text columns): characters and words per value (two KLLs, with
  their moments);
- `id` (a one-column key or a unique column), `list`: counts, distinct, lengths for lists.
Every kind has rows, nulls and (free text apart) a distinct count (`distinct.Distinct`).
Every part merges: the profile of any set of uploads is a merge of theirs, never a rescan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from datasketches import frequent_items_error_type, frequent_strings_sketch, kll_doubles_sketch

from data_platform.contracts import Contract
from data_platform.profiles.distinct import Distinct

KLL_K = 200  # DataSketches' default: normalized rank error about 1.65% (two-sided, 99%)
FREQUENT_LG = 10  # up to 768 values tracked exactly (3/4 of 2^10)
TOP_PER_BATCH = 1024  # a batch's most frequent values offered to the sketch
WORDS_SAMPLE = 10_000  # text values a batch counts the words of


def kind_of(contract: Contract, name: str) -> str:
    """How a declared column is profiled."""
    column = contract.columns[name]
    if name == contract.label_column or column.type == "boolean":
        return "category"
    if column.type in ("integer", "float"):
        return "number"
    if column.type in ("date", "datetime"):
        return "time"
    if column.type == "list":
        return "list"
    if name in contract.text:
        return "text"
    if column.unique or contract.key == (name,):
        return "id"
    return "category"


@dataclass
class Moments:
    """Count, mean and the sum of squared deviations, merged exactly (Chan et al.)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def update(self, values: np.ndarray) -> None:
        if not values.size:
            return
        mean = float(values.mean())
        other = Moments(
            int(values.size),
            mean,
            float(((values - mean) ** 2).sum()),
            float(values.min()),
            float(values.max()),
        )
        self.merge(other)

    def merge(self, other: Moments) -> None:
        if not other.n:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.mean += delta * other.n / n
        self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.n = n
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)

    @property
    def std(self) -> float | None:
        return math.sqrt(self.m2 / self.n) if self.n else None


def numeric(values: pl.Series) -> np.ndarray:
    """Non-null values as float64: dates in days, datetimes in seconds since 1970 (UTC);
    non-finite floats left out (they have no place on a histogram)."""
    dtype = values.dtype
    if dtype == pl.Date:
        out = values.to_physical().cast(pl.Float64)
    elif isinstance(dtype, pl.Datetime):
        out = values.dt.epoch("us").cast(pl.Float64) / 1e6
    else:
        out = values.cast(pl.Float64)
    array = _array(out)
    return np.ascontiguousarray(array[np.isfinite(array)]) if dtype.is_float() else array


def _array(values: pl.Series) -> np.ndarray:
    """A float64 array the sketches take (contiguous, writable: DataSketches' binding asks)."""
    return np.require(values.to_numpy(), np.float64, ["C", "W"])


@dataclass
class ColumnProfile:
    """A column's profile over the rows seen (one upload, or a merge of many)."""

    kind: str
    rows: int = 0
    nulls: int = 0
    moments: Moments = field(default_factory=Moments)  # values, or text lengths
    values: kll_doubles_sketch | None = None  # number, time
    lengths: kll_doubles_sketch | None = None  # text: characters; list: items
    words: kll_doubles_sketch | None = None  # text
    words_moments: Moments = field(default_factory=Moments)
    frequent: frequent_strings_sketch | None = None  # category
    distinct: Distinct = field(default_factory=Distinct)

    def __post_init__(self) -> None:
        if self.kind in ("number", "time") and self.values is None:
            self.values = kll_doubles_sketch(KLL_K)
        if self.kind in ("text", "list") and self.lengths is None:
            self.lengths = kll_doubles_sketch(KLL_K)
        if self.kind == "text" and self.words is None:
            self.words = kll_doubles_sketch(KLL_K)
        if self.kind == "category" and self.frequent is None:
            self.frequent = frequent_strings_sketch(FREQUENT_LG)

    def update(self, column: pl.Series) -> None:
        """Add a batch of the column's values (nulls counted, then left out)."""
        self.rows += column.len()
        nulls = column.null_count()
        self.nulls += nulls
        values = column.drop_nulls() if nulls else column
        if self.kind not in ("category", "text"):
            # a category's distinct values come with its counts; free text's are not counted
            # (hashing every text is a fifth of a profile, and says little of text)
            self.distinct.update(values)
        if self.values is not None:
            array = numeric(values)
            self.values.update(array)
            self.moments.update(array)
        elif self.kind == "text":
            self._update_text(values)
        elif self.kind == "list":
            array = _array(values.list.len().cast(pl.Float64))
            assert self.lengths is not None
            self.lengths.update(array)
            self.moments.update(array)
        elif self.frequent is not None:
            counts = values.value_counts(sort=True, name="n")
            self.distinct.update(counts.to_series(0))
            top = counts.head(TOP_PER_BATCH).with_columns(pl.first().cast(pl.String))
            for value, count in top.iter_rows():
                self.frequent.update(value, count)

    def _update_text(self, values: pl.Series) -> None:
        assert self.lengths is not None
        assert self.words is not None
        chars = _array(values.str.len_chars().cast(pl.Float64))
        # words (runs of non-space characters) of a sample: counting them costs 0.2 s per
        # million values, as much as the rest of a profile; every row up to WORDS_SAMPLE a
        # batch, then an even spread of that many
        step = -(-values.len() // WORDS_SAMPLE)
        sample = values.gather_every(step) if step > 1 else values
        words = _array(sample.str.count_matches(r"\S+").cast(pl.Float64))
        self.lengths.update(chars)
        self.moments.update(chars)
        self.words.update(words)
        self.words_moments.update(words)

    def merge(self, other: ColumnProfile) -> None:
        """Add another set of rows' profile of the same column (any order: merges commute)."""
        if other.kind != self.kind:
            raise ValueError(f"cannot merge a {other.kind} profile into a {self.kind} one")
        self.rows += other.rows
        self.nulls += other.nulls
        self.moments.merge(other.moments)
        self.words_moments.merge(other.words_moments)
        self.distinct.merge(other.distinct)
        for mine, theirs in (
            (self.values, other.values),
            (self.lengths, other.lengths),
            (self.words, other.words),
            (self.frequent, other.frequent),
        ):
            if mine is not None and theirs is not None:
                mine.merge(theirs)

    # -- what a person reads ---------------------------------------------------------------
    @property
    def null_rate(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def distinct_count(self) -> float | None:
        """Distinct values (estimated above K of them); None for free text (not counted)."""
        return None if self.kind == "text" else self.distinct.estimate

    @property
    def spread(self) -> kll_doubles_sketch | None:
        """The sketch whose distribution drift compares: values, else text lengths."""
        return self.values if self.values is not None else self.lengths

    def quantiles(self, ranks: list[float]) -> list[float] | None:
        sketch = self.spread
        if sketch is None or sketch.is_empty():
            return None
        return [float(q) for q in sketch.get_quantiles(ranks)]

    def top(self, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent values with their (estimated) counts, most frequent first."""
        if self.frequent is None or self.frequent.is_empty():
            return []
        items = self.frequent.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        return [(str(item[0]), int(item[1])) for item in items[:limit]]

    def categories(self) -> dict[str, int]:
        """Every tracked value with its estimated count (categories' distribution)."""
        if self.frequent is None or self.frequent.is_empty():
            return {}
        items = self.frequent.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES, 0)
        return {str(item[0]): int(item[1]) for item in items}

    def categories_complete(self) -> bool:
        """Whether every distinct value is tracked with its exact count."""
        if self.frequent is None:
            return False
        items = self.frequent.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES, 0)
        return all(item[2] == item[3] for item in items)  # no bound apart: nothing purged

    def histogram(self, bins: int = 20) -> tuple[list[float], list[float]]:
        """Evenly spaced edges from min to max and the share of values in each bin."""
        sketch = self.spread
        if sketch is None or sketch.is_empty() or not self.moments.n:
            return [], []
        low, high = self.moments.low, self.moments.high
        if high <= low:
            return [low, high], [1.0]
        edges = list(np.linspace(low, high, bins + 1))
        shares = sketch.get_pmf(edges[1:-1])
        return edges, [float(s) for s in shares]
