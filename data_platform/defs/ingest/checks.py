"""The `schema_valid` check of a staged table: the contract's rules, per upload."""

from __future__ import annotations

import warnings

import dagster as dg
import polars as pl

from data_platform.check_outcome import CheckOutcome, Markdown
from data_platform.contracts import Contract
from data_platform.defs.checks import check_result
from data_platform.ingest.problems import Problem, summarise

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


def schema_valid_result(
    asset_key: dg.AssetKey, source: str, problems: list[Problem], total: int, rows: int
) -> dg.AssetCheckResult:
    """Pass, or fail with a message naming the object, the rows and the columns."""
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
    outcome = CheckOutcome(
        total == 0,
        summarise(source, problems, limit=5, total=total),
        {
            "source_object": source,
            "rows_checked": rows,
            "problem_count": total,
            "problems": Markdown(_markdown(table)) if total else "none",
        },
    )
    return check_result(CHECK_NAME, outcome, asset_key)


def _markdown(table: pl.DataFrame) -> str:
    lines = ["| row | column | value | reason |", "|---|---|---|---|"]
    for row, column, value, reason in table.iter_rows():
        cell = (value or "").replace("|", "/")[:80]
        lines.append(f"| {row or ''} | {column or ''} | {cell} | {reason} |")
    return "\n".join(lines)
