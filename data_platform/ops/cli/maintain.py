"""`data-platform maintain [--dry-run]`: compact, expire snapshots, remove orphan files."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from data_platform.lakehouse.maintenance import MaintenanceReport

console = Console(width=160)  # tables of ids and URIs: wider than a default 80-column pipe


def maintain(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be done; change nothing.")
    ] = False,
    retain_last: Annotated[int, typer.Option(min=1, help="Keep the newest N snapshots.")] = 10,
    max_age_days: Annotated[
        float, typer.Option(min=0, help="Keep snapshots younger than this many days.")
    ] = 7.0,
    orphan_age_hours: Annotated[
        float, typer.Option(min=0, help="Remove unreferenced files older than this only.")
    ] = 24.0,
    compact_min_files: Annotated[
        int, typer.Option(min=2, help="Compact partitions with at least this many files.")
    ] = 8,
    table: Annotated[
        list[str] | None, typer.Option("--table", "-t", help="Only this table; repeatable.")
    ] = None,
) -> None:
    """Keep the lake healthy: compact small files, expire old snapshots, delete orphans.

    Snapshots named by a tag or branch are always kept. The scheduled `maintenance` job
    (stopped by default) does the same with checks on tags and row counts.
    """
    from pydantic import ValidationError

    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.lakehouse.maintenance import MaintenancePolicy
    from data_platform.lakehouse.maintenance import maintain as maintain_lake
    from data_platform.ops.cli.configured import refuse
    from data_platform.settings import Settings, StackNotRunningError
    from data_platform.storage import ObjectStore, StorageError

    policy = MaintenancePolicy(
        retain_last=retain_last,
        max_snapshot_age=timedelta(days=max_age_days),
        orphan_min_age=timedelta(hours=orphan_age_hours),
        compact_min_files=compact_min_files,
    )
    try:
        settings = Settings()
        lake, store = Lakehouse(open_catalog(settings)), ObjectStore.from_settings(settings)
        report = maintain_lake(lake, store, policy, tables=table or None, dry_run=dry_run)
    except (ValidationError, StackNotRunningError) as exc:
        refuse(exc)
    except (LookupError, StorageError) as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    console.print(render(report))


def render(report: MaintenanceReport) -> Table:
    """One row per table: what was (or, in a dry run, would be) removed, and bytes saved."""
    verb = "would remove" if report.dry_run else "removed"
    out = Table(
        "table",
        "rows",
        "partitions compacted",
        "snapshots expired",
        f"orphan files {verb}",
        "bytes saved",
        title="maintenance (dry run)" if report.dry_run else "maintenance",
    )
    for entry in report.tables:
        out.add_row(
            entry.table,
            f"{entry.rows_after:,}",
            ", ".join(c.partition for c in entry.compacted) or "-",
            str(len(entry.expired.expired) if entry.expired else 0),
            str(len(entry.orphans.removed) if entry.orphans else 0),
            human_bytes(entry.bytes_saved),
        )
    out.caption = f"total {human_bytes(report.bytes_saved)} {verb}"
    return out


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
