"""`data-platform sql`: query the lake's tables with DuckDB."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def sql_command(
    statement: Annotated[
        str, typer.Argument(help="SQL naming tables as layer.dataset, e.g. staged.reviews.")
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Read every table as of this tag, snapshot id or time "
            "(ISO 8601, e.g. 2026-12-01T00:00Z; no offset is UTC)."
        ),
    ] = None,
    limit: int = typer.Option(50, help="Rows to print at most."),
) -> None:
    """Run a DuckDB query over the lake and print the rows, e.g.

    data-platform sql "select category, count(*) from staged.reviews group by 1"
    """
    import duckdb

    from data_platform.lakehouse import sql
    from data_platform.ops.cli.configured import configured_settings, open_lake
    from data_platform.privacy.access import LayerRefused, check_tables

    settings = configured_settings()
    lake = open_lake(settings)
    try:
        check_tables(settings.identity, sql.tables_named(statement, lake))
        frame = sql.query(duckdb.connect(), lake, statement, as_of)
    except LayerRefused as exc:
        console.print(f"[red]refused: {exc}[/]")
        raise typer.Exit(1) from None
    except (duckdb.Error, LookupError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    table = Table(title=f"{frame.height:,} row(s)" + (f" as of {as_of}" if as_of else ""))
    for column in frame.columns:
        table.add_column(column, overflow="fold")
    for row in frame.head(limit).iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
