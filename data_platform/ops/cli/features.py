"""`data-platform features`: training data as it was, from an upsert dataset's history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

features_app = typer.Typer(
    help="Point-in-time features from an upsert dataset's history.", no_args_is_help=True
)
console = Console()


@features_app.command("join")
def join(
    events: Annotated[Path, typer.Argument(help="Parquet file of events: a key and a time.")],
    dataset: Annotated[str, typer.Option(help="The upsert dataset whose versions to join.")],
    on: Annotated[
        list[str], typer.Option(help="Key column(s) of the events (repeat for several).")
    ],
    at: Annotated[str, typer.Option(help="The events' time column (date or datetime).")],
    out: Annotated[Path, typer.Option(help="Where to write the joined Parquet file.")],
    as_of: Annotated[
        str | None,
        typer.Option(help="Read the history as of a tag, snapshot id or time (default: now)."),
    ] = None,
) -> None:
    """Join each event to the dataset's row as it was at the event's time, never later, e.g.

    data-platform features join clicks.parquet --dataset weather --on date --at seen_at
    --out train.parquet
    """
    import polars as pl

    from data_platform.contracts import load_dataset
    from data_platform.contracts.columns import VALID_FROM
    from data_platform.history import point_in_time_join, read_versions
    from data_platform.lakehouse import open_lakehouse
    from data_platform.settings import Settings

    settings = Settings()
    try:
        contract = load_dataset(settings.datasets_dir, dataset)
        try:
            frame = pl.read_parquet(events)
        except pl.exceptions.PolarsError as exc:  # not Parquet, or a broken file
            raise ValueError(f"{events}: not a readable Parquet file ({exc})") from None
        versions = read_versions(open_lakehouse(settings), contract, as_of)
        joined = point_in_time_join(frame, versions, on=on, at=at)
    except (LookupError, ValueError, OSError) as exc:
        console.print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    joined.write_parquet(out)
    matched = joined.select(pl.col(VALID_FROM).is_not_null().sum()).item()
    console.print(
        f"[bold]joined[/] {joined.height:,} event(s) with {dataset} as of each event's "
        f"{at} -> {out} ({matched:,} found a version)"
    )
