"""The `schema_valid` check of a staged table: the contract's rules, per upload."""

from __future__ import annotations

import warnings

import dagster as dg
import polars as pl

from data_platform.check_outcome import CheckOutcome, Markdown
from data_platform.contracts import Contract
from data_platform.defs.checks import check_result
from data_platform.ingest.problems import summarise
from data_platform.ingest.results import Validated

CHECK_NAME = "schema_valid"


def schema_valid_spec(
    asset_key: dg.AssetKey, contract: Contract, partitions_def: dg.PartitionsDefinition
) -> dg.AssetCheckSpec:
    """A blocking check, per partition: downstream never builds on an upload that fails."""
    with warnings.catch_warnings():
        # partitioned checks are a preview feature; we want each upload's verdict apart
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            CHECK_NAME,
            asset=asset_key,
            blocking=True,
            partitions_def=partitions_def,
            description=f"Rows parse into and satisfy the contract {contract.name} "
            f"v{contract.version}: types, nullability, uniqueness, rules.",
        )


def schema_valid_result(asset_key: dg.AssetKey, verdict: Validated) -> dg.AssetCheckEvaluation:
    """One upload's verdict, on its partition: pass, or fail with a message naming the
    object, the rows and the columns (and where the upload went)."""
    problems, total = verdict.problems, verdict.total
    shown = problems[:50]
    table = pl.DataFrame(
        {
            "row": [p.row for p in shown],
            "column": [p.column for p in shown],
            "value": [p.value for p in shown],
            "reason": [p.reason for p in shown],
        },
        schema={"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String},
    )
    metadata: dict[str, object] = {
        "source_object": verdict.source,
        "rows_checked": verdict.rows,
        "problem_count": total,
        "problems": Markdown(_markdown(table)) if total else "none",
    }
    if verdict.quarantined_to:
        metadata["quarantined_to"] = verdict.quarantined_to
    outcome = CheckOutcome(
        total == 0, summarise(verdict.source, problems, limit=5, total=total), metadata
    )
    result = check_result(CHECK_NAME, outcome, asset_key)
    return dg.AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=CHECK_NAME,
        passed=result.passed,
        metadata=result.metadata,
        severity=result.severity,
        description=result.description,
        blocking=True,
        partition=verdict.partition,
    )


def _markdown(table: pl.DataFrame) -> str:
    lines = ["| row | column | value | reason |", "|---|---|---|---|"]
    for row, column, value, reason in table.iter_rows():
        cell = (value or "").replace("|", "/")[:80]
        lines.append(f"| {row or ''} | {column or ''} | {cell} | {reason} |")
    return "\n".join(lines)
