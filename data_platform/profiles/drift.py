"""Drift of an upload's profile against a reference profile, metric by metric.

For each column both profiles have (Evidently's and TFDV's metrics, computed from the
sketches, never from rows):
- numbers and times: PSI over the reference's deciles, the Wasserstein distance in units of
  the reference's standard deviation, the Kolmogorov-Smirnov statistic;
- categories (the label too: its class mix, i.e. prior shift): PSI and the Jensen-Shannon
  distance over the values, and values the reference never had;
- text: the Jensen-Shannon distance of value lengths over the reference's deciles;
- every column: the change of its share of nulls.
Key columns are left out (new keys are what uploads bring), and time columns are measured
but judged only where the contract names them (an event time moves on by nature).
A metric with a threshold (`contract.drift`) that it crosses is a finding; the rest are
reported beside it. `refuse` on new categories quarantines even when drift is not blocking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from datasketches import kll_doubles_sketch

from data_platform.contracts import Contract
from data_platform.contracts.monitoring import TRAINING, Thresholds
from data_platform.profiles.column import ColumnProfile
from data_platform.profiles.profile import Profile

EPSILON = 1e-4  # a bin's share below this counts as this (PSI's usual floor, Evidently's)
DECILES = [i / 10 for i in range(1, 10)]
RANKS = [(i + 0.5) / 100 for i in range(100)]  # where quantile functions are compared


@dataclass(frozen=True)
class Metric:
    """One metric of one column: its value, its threshold (if any) and whether it is over."""

    column: str
    metric: str
    value: float
    threshold: float | None = None
    detail: str = ""  # e.g. the new categories
    refuse: bool = False  # over a `refuse` threshold: quarantined even when not blocking

    @property
    def over(self) -> bool:
        return self.threshold is not None and self.value > self.threshold

    def reading(self) -> str:
        """The metric, its value and its threshold, e.g. `psi 3.286 > 0.2`."""
        sign = ">" if self.over else "<="
        limit = f" {sign} {self.threshold:g}" if self.threshold is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.metric} {self.value:.3f}{limit}{detail}"

    def describe(self) -> str:
        return f"{self.column}: {self.reading()}"


@dataclass
class DriftReport:
    """Every metric of an upload against its reference."""

    reference: str  # what it was compared with, for a person
    reference_rows: int
    upload_rows: int
    metrics: list[Metric] = field(default_factory=list)
    too_few: int = 0  # the upload had fewer rows than this minimum: not judged

    @property
    def findings(self) -> list[Metric]:
        """The metrics over their thresholds."""
        return [m for m in self.metrics if m.over]

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(m.column for m in self.findings))

    def blocks(self, blocking: bool) -> bool:
        """Whether the upload is quarantined: any finding when blocking, else a `refuse`."""
        return any(blocking or m.refuse for m in self.findings)

    def summary(self, limit: int = 5) -> str:
        if not self.reference_rows:
            return f"no reference yet ({self.reference}): nothing to compare with"
        if self.too_few:
            return (
                f"not judged: {self.upload_rows:,} rows, fewer than drift.min_rows "
                f"({self.too_few:,}) to tell drift from chance"
            )
        if not self.drifted:
            return f"no drift against {self.reference} ({len(self.metrics)} metrics)"
        found = self.findings
        head = "; ".join(m.describe() for m in found[:limit])
        more = f"; and {len(found) - limit} more" if len(found) > limit else ""
        return f"drift against {self.reference}: {head}{more}"


def compare(
    upload: Profile,
    reference: Profile | None,
    contract: Contract,
    described: str,
    environment: str = TRAINING,
) -> DriftReport:
    """The drift of `upload` (of `environment`) against `reference` (None or empty:
    nothing to compare). Columns the environment may lack are left out."""
    report = DriftReport(described, reference.rows if reference else 0, upload.rows)
    if reference is None or not reference.rows:
        return report
    if upload.rows < contract.drift.min_rows:
        report.too_few = contract.drift.min_rows
        return report
    spec = contract.environments.get(environment)
    lacking = set(spec.without) if spec else set()
    for name, mine in upload.columns.items():
        theirs = reference.columns.get(name)
        if theirs is None or theirs.kind != mine.kind or not mine.rows or not theirs.rows:
            continue
        if name in lacking or name in contract.key:
            continue  # serving data without the label is not drift; new keys are the point
        limits = contract.drift.thresholds(name)
        if mine.kind == "time" and name not in contract.drift.columns:
            # times move on by nature (an event time, a date): measured, not judged, unless
            # the contract gives the column thresholds of its own
            limits = Thresholds(null_rate=limits.null_rate)
        report.metrics += column_metrics(name, mine, theirs, limits)
    return report


def column_metrics(
    name: str, upload: ColumnProfile, reference: ColumnProfile, limits: Thresholds
) -> list[Metric]:
    metrics = [
        Metric(name, "null_rate", abs(upload.null_rate - reference.null_rate), limits.null_rate)
    ]
    if upload.kind in ("number", "time"):
        mine, theirs = upload.values, reference.values
        if mine is None or theirs is None or mine.is_empty() or theirs.is_empty():
            return metrics
        metrics += [
            Metric(name, "psi", psi(*binned(mine, theirs)), limits.psi),
            Metric(name, "wasserstein", wasserstein(mine, theirs, reference), limits.wasserstein),
            Metric(name, "ks", ks(mine, theirs), limits.ks),
        ]
    elif upload.kind in ("text", "list"):
        mine, theirs = upload.lengths, reference.lengths
        if mine is None or theirs is None or mine.is_empty() or theirs.is_empty():
            return metrics
        metrics.append(Metric(name, "length_js", js(*binned(mine, theirs)), limits.js))
    elif upload.kind == "category":
        up, ref = upload.categories(), reference.categories()
        if not up or not ref or not reference.categories_complete():
            # values too many to track each (e-mails, names, free-form codes): not a
            # category, and a distribution over the few tracked would drift every time
            return metrics
        keys = sorted(set(up) | set(ref))
        shares_up = _shares([up.get(k, 0) for k in keys], upload.rows - upload.nulls)
        shares_ref = _shares([ref.get(k, 0) for k in keys], reference.rows - reference.nulls)
        metrics += [
            Metric(name, "psi", psi(shares_up, shares_ref), limits.psi),
            Metric(name, "js", js(shares_up, shares_ref), limits.js),
        ]
        if reference.categories_complete() and limits.new_categories != "allow":
            new = sorted(set(up) - set(ref))
            metrics.append(
                Metric(
                    name,
                    "new_categories",
                    float(len(new)),
                    0.0,
                    ", ".join(repr(v) for v in new[:10]),
                    refuse=limits.new_categories == "refuse",
                )
            )
    return metrics


def _shares(counts: list[int], total: int) -> np.ndarray:
    """Shares of each value, with what the sketch did not track as one more bin."""
    tracked = float(sum(counts))
    other = max(float(total) - tracked, 0.0)
    values = np.array([*counts, other], dtype=float)
    return values / values.sum() if values.sum() else values


def binned(
    upload: kll_doubles_sketch, reference: kll_doubles_sketch
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each sketch's values in the reference's decile bins."""
    splits = sorted(set(float(q) for q in reference.get_quantiles(DECILES)))
    return (
        np.array(upload.get_pmf(splits), dtype=float),
        np.array(reference.get_pmf(splits), dtype=float),
    )


def psi(upload: np.ndarray, reference: np.ndarray) -> float:
    """Population stability index: sum of (u - r) * ln(u / r) over the bins."""
    u = np.clip(np.asarray(upload, float), EPSILON, None)
    r = np.clip(np.asarray(reference, float), EPSILON, None)
    return float(np.sum((u - r) * np.log(u / r)))


def js(upload: np.ndarray, reference: np.ndarray) -> float:
    """Jensen-Shannon distance (the square root of the divergence, base 2: 0 to 1)."""
    u, r = np.asarray(upload, float), np.asarray(reference, float)
    u, r = u / u.sum(), r / r.sum()
    m = (u + r) / 2

    def kl(p: np.ndarray) -> float:
        mask = p > 0
        return float(np.sum(p[mask] * np.log2(p[mask] / m[mask])))

    return math.sqrt(max((kl(u) + kl(r)) / 2, 0.0))


def wasserstein(
    upload: kll_doubles_sketch, reference: kll_doubles_sketch, profile: ColumnProfile
) -> float:
    """The Wasserstein-1 distance of the two distributions (the mean gap between their
    quantile functions), in units of the reference's standard deviation."""
    gap = np.abs(
        np.array(upload.get_quantiles(RANKS)) - np.array(reference.get_quantiles(RANKS))
    ).mean()
    std = profile.moments.std or 0.0
    return float(gap / std) if std > 0 else float(gap)


def ks(upload: kll_doubles_sketch, reference: kll_doubles_sketch) -> float:
    """The Kolmogorov-Smirnov statistic: the largest gap between the two CDFs."""
    points = sorted(
        set(float(q) for q in upload.get_quantiles(RANKS))
        | set(float(q) for q in reference.get_quantiles(RANKS))
    )
    cdf_up = np.array(upload.get_cdf(points, True))[:-1]
    cdf_ref = np.array(reference.get_cdf(points, True))[:-1]
    return float(np.abs(cdf_up - cdf_ref).max())
