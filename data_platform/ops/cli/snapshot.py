"""`data-platform snapshot tag|list`: name the lake's current state, to reproduce it later.

A tag names the current Iceberg snapshot of every table; `--as-of <tag>` (run config of the
layer assets, `data-platform export`) then reads exactly that state, whatever came since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from data_platform.ops.cli.configured import open_lake

snapshot_app = typer.Typer(
    help="Tag the current snapshot of every table, and list the tags.", no_args_is_help=True
)
console = Console(width=160)  # tables of ids and URIs: wider than a default 80-column pipe

TablesOpt = Annotated[
    list[str] | None,
    typer.Option("--table", "-t", help="Only this table (layer.name); repeatable."),
]


@snapshot_app.command("tag")
def tag(
    name: Annotated[str, typer.Argument(help="Tag name, e.g. release-2026-11-20.")],
    table: TablesOpt = None,
) -> None:
    """Tag the current snapshot of every table (or --table) as NAME; moves an existing tag."""
    if name == "main":
        raise typer.BadParameter("'main' is the branch every write goes to", param_hint="NAME")
    tagged = open_lake().tag(name, tables=table or None)
    if not tagged:
        typer.secho("error: no table has a snapshot yet: nothing to tag", err=True, fg="red")
        raise typer.Exit(1)
    out = Table("table", "snapshot id", title=f"tag {name}")
    for table_name, snapshot_id in tagged.items():
        out.add_row(table_name, str(snapshot_id))
    console.print(out)


@snapshot_app.command("list")
def list_tags(table: TablesOpt = None) -> None:
    """List the tags and branches of every table (or --table) with their snapshots."""
    lake = open_lake()
    out = Table("table", "ref", "type", "snapshot id", "committed (UTC)", "rows")
    for table_name in table or lake.tables():
        loaded = lake.load(table_name)
        if loaded is None:
            raise typer.BadParameter(f"table {table_name} does not exist", param_hint="--table")
        for ref_name, ref in sorted(loaded.metadata.refs.items()):
            snapshot = loaded.snapshot_by_id(ref.snapshot_id)
            when = (
                datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC).isoformat(
                    sep=" ", timespec="seconds"
                )
                if snapshot
                else "expired"
            )
            rows = (
                snapshot.summary.get("total-records", "") if snapshot and snapshot.summary else ""
            )
            kind = str(ref.snapshot_ref_type.value)
            out.add_row(table_name, ref_name, kind, str(ref.snapshot_id), when, str(rows))
    console.print(out)
