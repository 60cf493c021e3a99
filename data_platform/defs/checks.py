"""The one adapter from a `CheckOutcome` to Dagster's `AssetCheckResult`."""

from __future__ import annotations

import dagster as dg

from data_platform.check_outcome import CheckOutcome, Markdown

SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def check_result(
    name: str, outcome: CheckOutcome, asset_key: dg.AssetKey | None = None
) -> dg.AssetCheckResult:
    """`outcome` as the result of check `name` (of `asset_key`, when the op has several)."""
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=bool(outcome.passed),
        severity=SEVERITY[outcome.severity],
        description=outcome.description or None,
        metadata={key: metadata_value(value) for key, value in outcome.metadata.items()},
    )


def metadata_value(value: object) -> dg.MetadataValue:
    """A plain value as the metadata type a person reads best (markdown, JSON, a number)."""
    if isinstance(value, Markdown):
        return dg.MetadataValue.md(str(value))
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, dict | list | tuple):
        return dg.MetadataValue.json(value if not isinstance(value, tuple) else list(value))
    return dg.MetadataValue.text(str(value))
