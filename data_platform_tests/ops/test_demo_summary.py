"""The demo's summary counts a check that could not measure apart from one that failed.

A label check with nothing to measure fails at WARN with a `skipped_reason` (issue #26:
never "passed"); the summary says "not measured" for it, so a newcomer's first table does
not read as broken when only the simulated annotator gave no record two labels.
"""

from __future__ import annotations

import dagster as dg
from rich.console import Console

from data_platform.ops.demo.summary import AssetSummary, render
from data_platform.ops.runner import _outcome


@dg.asset
def numbers() -> None:
    return None


@dg.asset_check(asset=numbers)
def measured_ok() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset_check(asset=numbers)
def measured_bad() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=numbers)
def nothing_to_measure() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"skipped_reason": "no record has two annotators yet"},
    )


def test_a_run_counts_passed_failed_and_not_measured_apart():
    result = dg.materialize(
        [numbers, measured_ok, measured_bad, nothing_to_measure], raise_on_error=False
    )
    outcome = _outcome(result, "numbers", "", 0.0)
    assert outcome.checks == {"numbers": [1, 1, 1]}
    assert (outcome.checks_passed, outcome.checks_failed) == (1, 1)


def _rendered(summary: AssetSummary) -> str:
    console = Console(width=200, record=True)
    console.print(render([summary]))
    return console.export_text()


def test_the_summary_says_not_measured():
    summary = AssetSummary("labeled/x", "1", 200, 1, "s3://lake/x", 2, 1, checks_unmeasured=1)
    assert "2/1 (1 not measured)" in _rendered(summary)
    plain = AssetSummary("staged/x", "1", 200, 1, "s3://lake/x", 3, 0)
    assert "3/0" in _rendered(plain)
    assert "not measured" not in _rendered(plain)
    none = AssetSummary("raw/x", "1", 200, 1, "s3://lake/x", 0, 0)
    assert "0/0" not in _rendered(none)
