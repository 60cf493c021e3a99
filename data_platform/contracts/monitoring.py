"""What a contract says about a dataset over time: drift thresholds and environments.

```yaml
drift:
  reference: previous        # or a tag of staged, e.g. release-1 (what a model trained on)
  default: {psi: 0.2}
  columns: {temp_max: {psi: 0.1}, weather: {new_categories: refuse}}
  blocking: false            # true: a drifting upload is quarantined like an invalid one
environments:
  serving: {without: [category]}   # uploads under landing/<name>/serving/ may lack the label
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from data_platform.contracts.base import Strict

TRAINING = "training"  # the environment of every upload outside a declared one's folder


class Thresholds(Strict):
    """Limits of drift metrics for a column; a metric left out takes the default's."""

    psi: float | None = Field(
        default=None, ge=0, description="Population stability index over the reference's bins."
    )
    js: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Jensen-Shannon distance (base 2), categories and text lengths.",
    )
    wasserstein: float | None = Field(
        default=None, ge=0, description="Wasserstein distance in the reference's std (numbers)."
    )
    ks: float | None = Field(
        default=None, ge=0, le=1, description="Kolmogorov-Smirnov statistic (numbers)."
    )
    null_rate: float | None = Field(
        default=None, ge=0, le=1, description="Change of the share of nulls (absolute)."
    )
    new_categories: Literal["allow", "warn", "refuse"] | None = Field(
        default=None,
        description="Values the reference never had: allow, warn, or refuse (quarantined "
        "even when the drift check is not blocking).",
    )

    def over(self, base: Thresholds) -> Thresholds:
        """These thresholds, with `base`'s where these leave a metric out."""
        mine = self.model_dump(exclude_none=True)
        return base.model_copy(update=mine)


# what every dataset gets unless its contract says otherwise (Evidently's and TFDV's usual
# limits: PSI 0.2 is a "significant" shift, 0.1 a JS distance worth a look)
DEFAULT_THRESHOLDS = Thresholds(psi=0.2, js=0.1, null_rate=0.05, new_categories="warn")


class Drift(Strict):
    """Drift of each upload against a reference, checked by `drift` on staged."""

    reference: str = Field(
        default="previous",
        min_length=1,
        description="previous: every upload before this one, merged; or a tag of staged.",
    )
    default: Thresholds = Thresholds()
    columns: dict[str, Thresholds] = Field(default_factory=dict)
    blocking: bool = Field(
        default=False, description="true: a drifting upload is quarantined like an invalid one."
    )
    min_rows: int = Field(
        default=200,
        ge=1,
        description="Uploads with fewer rows are not judged: their sampling noise alone "
        "crosses the thresholds (PSI over 10 bins of n rows is about 9/n by chance).",
    )

    @property
    def can_refuse(self) -> bool:
        """Whether a drift can refuse an upload (blocking, or `new_categories: refuse`)."""
        limits = [self.default, *self.columns.values()]
        return self.blocking or any(t.new_categories == "refuse" for t in limits)

    def thresholds(self, column: str) -> Thresholds:
        own = self.columns.get(column)
        base = self.default.over(DEFAULT_THRESHOLDS)
        return own.over(base) if own else base


class Environment(Strict):
    """Uploads under `landing/<dataset>/<environment>/` (TFDV's schema environments)."""

    without: tuple[str, ...] = Field(
        default=(), description="Declared columns these uploads may lack (e.g. the label)."
    )

    @field_validator("without")
    @classmethod
    def _distinct(cls, without: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(without)) != len(without):
            raise ValueError("without: columns must be distinct")
        return without
