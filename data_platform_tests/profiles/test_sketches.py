"""Profiles merge like the data they describe: the merge of many uploads' profiles, read
back from their stored rows, matches a full scan of all their rows within each sketch's
stated error (no services)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from data_platform.contracts import parse_contract
from data_platform.profiles.column import KLL_K
from data_platform.profiles.distinct import Distinct, K, hashes, splitmix64
from data_platform.profiles.profile import Profile, from_rows, merged

CONTRACT = parse_contract(
    """name: events
columns:
  user: {type: string}
  amount: {type: float, nullable: true}
  kind: {type: string}
  note: {type: string}
  day: {type: date}
text: [note]
""",
    "events.yaml",
)
WORDS = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])


def upload(seed: int, rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.0, 1.0, rows)
    words = rng.integers(1, 12, rows)
    return pl.DataFrame(
        {
            "user": [f"user-{u}" for u in rng.integers(0, 60_000, rows)],
            "amount": [None if rng.random() < 0.1 else float(a) for a in amount],
            "kind": rng.choice(["buy", "sell", "hold", "refund"], rows, p=[0.5, 0.3, 0.15, 0.05]),
            "note": [" ".join(rng.choice(WORDS, w)) for w in words],
            "day": pl.Series(rng.integers(18_000, 19_000, rows)).cast(pl.Date),
        }
    )


@pytest.fixture(scope="module")
def uploads() -> list[pl.DataFrame]:
    sizes = np.random.default_rng(0).integers(50, 4000, 60)
    return [upload(int(i), int(size)) for i, size in enumerate(sizes)]


@pytest.fixture(scope="module")
def stored(uploads) -> pl.DataFrame:
    """Each upload profiled on its own, in batches, and stored as `profiles.<name>` rows."""
    rows = []
    for i, frame in enumerate(uploads):
        profile = Profile.empty(CONTRACT)
        for batch in frame.iter_slices(1000):
            profile.update(batch)
        rows.append(profile.rows_for(f"u{i}.csv", "training", datetime.now(UTC)))
    return pl.concat(rows)


def test_merged_profile_matches_a_full_scan_within_the_sketches_error(uploads, stored):
    everything = pl.concat(uploads)
    whole = merged(stored)
    assert whole.uploads == len(uploads)
    amount = whole.columns["amount"]
    values = everything["amount"].drop_nulls().sort().to_numpy()
    # exact: counts, nulls, min, max, mean, standard deviation
    assert amount.rows == everything.height
    assert amount.nulls == everything["amount"].null_count()
    assert amount.moments.low == values[0]
    assert amount.moments.high == values[-1]
    assert amount.moments.mean == pytest.approx(values.mean(), rel=1e-9)
    assert amount.moments.std == pytest.approx(values.std(), rel=1e-9)
    # KLL: each quantile's true rank within the sketch's normalized rank error
    assert amount.values is not None
    error = amount.values.normalized_rank_error(False)
    assert error == pytest.approx(0.0133, abs=0.001)  # k = KLL_K = 200
    assert KLL_K == 200
    ranks = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    for rank, q in zip(ranks, amount.quantiles(ranks) or [], strict=True):
        true_rank = np.searchsorted(values, q, side="right") / values.size
        assert abs(true_rank - rank) <= error, (rank, true_rank)
    # frequent items: a category's counts are exact (fewer values than the sketch holds)
    kinds = whole.columns["kind"]
    assert dict(kinds.top()) == dict(everything["kind"].value_counts().iter_rows())
    assert kinds.categories_complete()
    # the distinct count: within three relative standard errors of the exact count
    users = whole.columns["user"]
    exact = everything["user"].n_unique()
    assert exact > K  # the estimate, not the exact small-set count, is tested
    assert users.distinct.estimate == pytest.approx(exact, rel=3 / np.sqrt(K - 2))
    assert whole.columns["kind"].distinct.estimate == 4
    # text: character lengths exactly in the moments, words counted
    note = whole.columns["note"]
    lengths = everything["note"].str.len_chars()
    assert note.moments.mean == pytest.approx(lengths.mean(), rel=1e-9)
    assert note.words_moments.high == 11
    assert note.words_moments.low == 1


def test_a_merge_is_the_same_in_any_order_and_from_rows_or_objects(uploads, stored):
    by_upload = from_rows(stored)
    forward, backward = Profile(), Profile()
    for key in sorted(by_upload):
        forward.merge(by_upload[key])
    for key in sorted(by_upload, reverse=True):
        backward.merge(by_upload[key])
    whole = merged(stored)
    for profile in (forward, backward):
        assert profile.columns["amount"].moments.mean == pytest.approx(
            whole.columns["amount"].moments.mean
        )
        assert profile.columns["user"].distinct.estimate == whole.columns["user"].distinct.estimate
        assert profile.columns["kind"].top() == whole.columns["kind"].top()


def test_the_distinct_hashes_are_stable_across_versions_and_machines():
    """Stored sketches merge with tomorrow's: the hashes may never change."""
    assert int(splitmix64(np.array([0], dtype=np.uint64))[0]) == 0xE220A8397B1DCDAF
    assert int(hashes(pl.Series(["abc"]))[0]) == 0x78AF5F94892F3950  # XXH3_64("abc")
    sketch = Distinct()
    sketch.update(pl.Series(["abc"]))
    sketch.update(pl.Series([1.5, -0.0, 0.0]))
    assert sketch.estimate == 3  # -0.0 and 0.0 are one value
    assert Distinct.deserialize(sketch.serialize()).kept.tolist() == sketch.kept.tolist()
