"""The one shape of a check's verdict, shared by every layer's checks.

A check function computes a `CheckOutcome` (passed, a one-line description, metadata of
plain values, a severity); `data_platform.defs.checks.check_result` is the one adapter that
turns it into Dagster's ``AssetCheckResult``. Nothing here imports Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


class Markdown(str):
    """A metadata value to show as markdown (a table, a bar chart of text)."""


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check.

    `severity` is how a failure counts: ``error`` (the default) or ``warn`` (a property a
    person should look at, not a reason to stop).
    """

    passed: bool
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    severity: Literal["error", "warn"] = "error"
