"""The Pandera check factory: one blocking `schema_valid` check per staged asset."""

from __future__ import annotations

import dagster as dg
import pandera.polars as pa
import polars as pl

from data_platform.core.problems import Problem, summarise

CHECK_NAME = "schema_valid"


def pandera_check_spec(
    asset_key: dg.AssetKey,
    model: type[pa.DataFrameModel],
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetCheckSpec:
    """A blocking check, per partition: downstream never builds on a partition that fails."""
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=asset_key,
        blocking=True,
        partitions_def=partitions_def,
        description=f"Rows parse into and satisfy the Pandera model {model.__name__}.",
    )


def pandera_check_result(
    asset_key: dg.AssetKey, source: str, problems: list[Problem], rows: int
) -> dg.AssetCheckResult:
    """Pass, or fail with a message naming the object, the rows and the columns."""
    table = pl.DataFrame(
        {
            "row": [p.row for p in problems[:50]],
            "column": [p.column for p in problems[:50]],
            "value": [p.value for p in problems[:50]],
            "reason": [p.reason for p in problems[:50]],
        },
        schema={"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String},
    )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CHECK_NAME,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=summarise(source, problems, limit=5),
        metadata={
            "source_object": source,
            "rows_checked": dg.MetadataValue.int(rows),
            "problem_count": dg.MetadataValue.int(len(problems)),
            "problems": dg.MetadataValue.md(_markdown(table)) if problems else "none",
        },
    )


def _markdown(table: pl.DataFrame) -> str:
    lines = ["| row | column | value | reason |", "|---|---|---|---|"]
    for row, column, value, reason in table.iter_rows():
        lines.append(f"| {row or ''} | {column or ''} | {value or ''} | {reason} |")
    return "\n".join(lines)
