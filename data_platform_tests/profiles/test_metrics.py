"""Drift metrics against hand computations, and the verdicts they lead to (no services)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon

from data_platform.contracts import parse_contract
from data_platform.profiles.drift import compare, js, psi
from data_platform.profiles.profile import Profile

WEATHER = """name: weather
key: [day]
DRIFT
columns:
  day: {type: integer}
  temp_max: {type: float}
  weather: {type: string}
  wind: {type: float, nullable: true}
  seen_at: {type: datetime, timezone: UTC}
"""


def weather(drift: str = ""):
    """The weather contract, with a `drift:` line of its own."""
    return parse_contract(WEATHER.replace("DRIFT", drift), "weather.yaml")


CONTRACT = weather()


def test_psi_matches_a_hand_computation():
    # (0.5-0.4)ln(0.5/0.4) + (0.3-0.4)ln(0.3/0.4) + (0.2-0.2)ln(1)
    expected = 0.1 * math.log(1.25) + (-0.1) * math.log(0.75)
    assert psi(np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])) == pytest.approx(expected)
    assert expected == pytest.approx(0.0510826, abs=1e-6)
    # an empty bin counts as 0.0001 (not an infinite PSI)
    assert psi(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(
        (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    )


def test_jensen_shannon_matches_a_hand_computation_and_scipy():
    # m = (0.75, 0.25); KL(p|m) = 0.5 log2(2/3) + 0.5 log2(2); KL(q|m) = log2(4/3)
    divergence = (0.5 * math.log2(2 / 3) + 0.5 + math.log2(4 / 3)) / 2
    assert js(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(math.sqrt(divergence))
    assert math.sqrt(divergence) == pytest.approx(0.5579230, abs=1e-6)
    p, q = np.array([0.1, 0.2, 0.7]), np.array([0.3, 0.3, 0.4])
    assert js(p, q) == pytest.approx(jensenshannon(p, q, base=2))
    assert js(p, p) == 0.0


def frame(n: int, seed: int, *, shift=0.0, kinds=("rain", "sun", "fog"), nulls=0.05):
    rng = np.random.default_rng(seed)
    wind = rng.normal(5, 1, n)
    missing = rng.random(n) < nulls
    return pl.DataFrame(
        {
            "day": np.arange(n) + seed * 100_000,
            "temp_max": rng.normal(15, 5, n) + shift,
            "weather": rng.choice(list(kinds), n),
            "wind": [None if m else float(w) for w, m in zip(wind, missing, strict=True)],
            "seen_at": pl.datetime_range(
                pl.datetime(2026, 1, 1), pl.datetime(2026, 1, 1) + pl.duration(minutes=n - 1),
                "1m", eager=True, time_zone="UTC",
            ).dt.offset_by(f"{seed * 30}d"),
        }
    )  # fmt: skip


def profile(data: pl.DataFrame) -> Profile:
    result = Profile.empty(CONTRACT)
    result.update(data)
    return result


REFERENCE = profile(frame(5000, 1))


@pytest.mark.parametrize("seed", [2, 3, 4, 5, 6])
def test_an_upload_from_the_same_distribution_passes(seed):
    report = compare(profile(frame(1000, seed)), REFERENCE, CONTRACT, "ref")
    assert not report.drifted, report.summary()
    # the key is left out (new keys are what uploads bring), a time is measured, not judged
    assert {m.column for m in report.metrics} == {"temp_max", "weather", "wind", "seen_at"}
    assert all(m.threshold is None for m in report.metrics if m.column == "seen_at" and
               m.metric != "null_rate")  # fmt: skip


@pytest.mark.parametrize(
    ("upload", "column", "metric"),
    [
        (frame(1000, 7, shift=10.0), "temp_max", "psi"),
        (frame(1000, 8, kinds=("rain", "sun", "fog", "hail")), "weather", "new_categories"),
        (frame(1000, 9, nulls=0.15), "wind", "null_rate"),
    ],
)
def test_a_shift_a_new_category_and_a_tripled_null_rate_each_fail(upload, column, metric):
    report = compare(profile(upload), REFERENCE, CONTRACT, "ref")
    assert (column, metric) in {(m.column, m.metric) for m in report.findings}
    assert report.columns == [column]
    assert f"{column}: {metric}" in report.summary()


def test_new_categories_name_the_values_and_refuse_blocks_without_blocking():
    contract = weather("drift: {columns: {weather: {new_categories: refuse}}}")
    hail = profile(frame(1000, 8, kinds=("rain", "sun", "fog", "hail")))
    report = compare(hail, REFERENCE, contract, "ref")
    [new] = [m for m in report.findings if m.metric == "new_categories"]
    assert new.detail == "'hail'"
    assert report.blocks(blocking=False)  # `refuse`: quarantined though drift is not blocking
    shifted = compare(profile(frame(1000, 7, shift=10.0)), REFERENCE, contract, "ref")
    assert shifted.drifted
    assert not shifted.blocks(blocking=False)
    assert shifted.blocks(blocking=True)


def test_column_thresholds_override_the_default_which_overrides_the_platform():
    contract = weather("drift: {default: {psi: 0.5}, columns: {temp_max: {psi: 0.01, ks: 0.2}}}")
    assert contract.drift.thresholds("temp_max").psi == 0.01
    assert contract.drift.thresholds("temp_max").ks == 0.2
    assert contract.drift.thresholds("wind").psi == 0.5
    assert contract.drift.thresholds("wind").js == 0.1  # the platform's default


def test_no_reference_yet_is_said_and_passes():
    report = compare(profile(frame(100, 1)), None, CONTRACT, "the 0 earlier upload(s)")
    assert not report.drifted
    assert report.summary().startswith("no reference yet")


def test_a_string_column_too_varied_to_track_is_not_compared_as_a_category():
    """E-mail addresses, names, codes: every upload brings new ones; that is not drift."""
    contract = parse_contract("name: users\ncolumns:\n  email: {type: string}\n", "users.yaml")

    def emails(first: int) -> Profile:
        result = Profile.empty(contract)
        result.update(
            pl.DataFrame({"email": [f"u{i}@example.org" for i in range(first, first + 5000)]})
        )
        return result

    report = compare(emails(10_000), emails(0), contract, "ref")
    assert not report.drifted, report.summary()
    assert [m.metric for m in report.metrics] == ["null_rate"]


def test_an_upload_too_small_to_tell_drift_from_chance_is_not_judged():
    small = profile(frame(60, 7, shift=10.0))  # shifted, but 60 rows
    report = compare(small, REFERENCE, CONTRACT, "ref")
    assert not report.drifted
    assert report.summary().startswith("not judged: 60 rows, fewer than drift.min_rows (200)")
