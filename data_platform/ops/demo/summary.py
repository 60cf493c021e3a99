"""The summary a person reads after the main job: one row per asset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import dagster as dg
from rich.table import Table

from data_platform.lakehouse import Lakehouse
from data_platform.ops.runner import DemoReport

LAYER_ORDER = (
    "raw",
    "staged",
    "transformed",
    "embedded",
    "inference",
    "labeling",
    "labeled",
    "benchmarks",
    "maintenance",
)


def _order(key: dg.AssetKey) -> tuple[int, str]:
    layer = key.path[0]
    rank = LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
    return rank, key.to_user_string()


@dataclass(frozen=True)
class AssetSummary:
    asset: str
    partitions: str
    rows: int | None
    snapshot_id: int | None
    location: str
    checks_passed: int
    checks_failed: int
    checks_unmeasured: int = 0  # could not measure (e.g. no record labeled twice yet)


def summarise_assets(
    lake: Lakehouse, instance: dg.DagsterInstance, defs: dg.Definitions, report: DemoReport
) -> list[AssetSummary]:
    """Every asset of `defs`: partitions, rows, snapshot, location, check results."""
    rows = []
    for node in sorted(defs.resolve_asset_graph().asset_nodes, key=lambda n: _order(n.key)):
        key = node.key
        table = node.metadata.get("iceberg_table")
        table_name = table.value if isinstance(table, dg.TextMetadataValue) else table
        loaded = lake.load(table_name) if table_name else None
        latest = instance.get_latest_materialization_event(key)
        if node.is_partitioned:
            partitions = str(len(instance.get_materialized_partitions(key)))
        else:
            partitions = "-" if latest is None else "1"
        count = lake.count(table_name) if table_name and loaded is not None else _row_count(latest)
        passed, failed, unmeasured = report.checks(key.to_user_string())
        rows.append(
            AssetSummary(
                asset=key.to_user_string(),
                partitions=partitions,
                rows=count,
                snapshot_id=lake.snapshot_id(table_name)
                if table_name and loaded is not None
                else None,
                location=loaded.location() if loaded is not None else _location(latest),
                checks_passed=passed,
                checks_failed=failed,
                checks_unmeasured=unmeasured,
            )
        )
    return rows


def _row_count(event: dg.EventLogEntry | None) -> int | None:
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("dagster/row_count")
    # dagster/row_count holds an int (dagster types a value as any metadata)
    return int(cast(int, value.value)) if value is not None else None


def _location(event: dg.EventLogEntry | None) -> str:
    if event is None or event.asset_materialization is None:
        return "-"
    value = event.asset_materialization.metadata.get("table_location")
    return str(value.value) if value is not None else "-"


def render(summaries: list[AssetSummary]) -> Table:
    table = Table(title="data_platform: assets after the main job")
    for column in ("asset", "partitions", "rows", "snapshot id", "location", "checks ok/failed"):
        table.add_column(column, justify="right" if column in {"partitions", "rows"} else "left")
    for s in summaries:
        checks = f"{s.checks_passed}/{s.checks_failed}"
        if s.checks_unmeasured:
            checks += f" ({s.checks_unmeasured} not measured)"
        elif not s.checks_passed + s.checks_failed:
            checks = "-"
        table.add_row(
            s.asset,
            s.partitions,
            "-" if s.rows is None else f"{s.rows:,}",
            str(s.snapshot_id or "-"),
            s.location,
            checks,
        )
    return table
