"""The summary a person reads after the main job: one row per asset."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from rich.table import Table

from data_platform.datasets import DatasetSpec
from data_platform.demo.runner import DemoReport
from data_platform.lakehouse import Lakehouse

LAYERS = ("raw", "staged", "transformed")


@dataclass(frozen=True)
class AssetSummary:
    asset: str
    partitions: int
    rows: int
    snapshot_id: int | None
    location: str
    checks_passed: int
    checks_failed: int


def summarise_assets(
    lake: Lakehouse,
    instance: dg.DagsterInstance,
    specs: tuple[DatasetSpec, ...],
    report: DemoReport,
) -> list[AssetSummary]:
    rows = []
    for spec in specs:
        for layer in LAYERS:
            table = lake.load(spec.table(layer))
            passed, failed = report.checks(spec.name) if layer == "staged" else (0, 0)
            rows.append(
                AssetSummary(
                    asset=f"{layer}/{spec.name}",
                    partitions=len(
                        instance.get_materialized_partitions(dg.AssetKey([layer, spec.name]))
                    ),
                    rows=lake.count(spec.table(layer)),
                    snapshot_id=lake.snapshot_id(spec.table(layer)),
                    location=table.location() if table else "-",
                    checks_passed=passed,
                    checks_failed=failed,
                )
            )
    return rows


def render(summaries: list[AssetSummary]) -> Table:
    table = Table(title="data_platform: assets after the main job")
    for column in ("asset", "partitions", "rows", "snapshot id", "location", "checks ok/failed"):
        table.add_column(column, justify="right" if column in {"partitions", "rows"} else "left")
    for s in summaries:
        checks = (
            f"{s.checks_passed}/{s.checks_failed}" if s.checks_passed + s.checks_failed else "-"
        )
        table.add_row(
            s.asset,
            str(s.partitions),
            f"{s.rows:,}",
            str(s.snapshot_id or "-"),
            s.location,
            checks,
        )
    return table
