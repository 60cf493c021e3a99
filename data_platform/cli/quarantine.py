"""`data-platform quarantine list|retry`: uploads that were refused, and putting them back."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from data_platform.landing import Custody
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

console = Console()
quarantine_app = typer.Typer(
    help="Refused uploads, every version kept with the reason (quarantine/<dataset>/...).",
    no_args_is_help=True,
)


def _custody() -> Custody:
    settings = Settings()
    return Custody(ObjectStore.from_settings(settings), settings)


@quarantine_app.command("list")
def list_quarantine(
    dataset: Annotated[str | None, typer.Argument(help="Only this dataset.")] = None,
) -> None:
    """Quarantined uploads, oldest first, with why each was refused."""
    entries = _custody().quarantined(dataset)
    if not entries:
        console.print(f"nothing in quarantine{f' for {dataset}' if dataset else ''}")
        return
    table = Table(title=f"{len(entries)} quarantined upload(s)")
    for column in ("dataset", "upload", "quarantined at", "bytes", "why", "key"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            e.dataset, e.partition, e.quarantined_at[:19], f"{e.size:,}", e.error[:300], e.key
        )
    console.print(table)


@quarantine_app.command("retry")
def retry(
    key: Annotated[
        str | None, typer.Argument(help="A quarantined object's key (from `quarantine list`).")
    ] = None,
    all_of: Annotated[
        str | None, typer.Option("--all", help="Retry every quarantined upload of DATASET.")
    ] = None,
) -> None:
    """Put quarantined uploads back into landing, bytes unchanged, for ingestion under
    the current contract (the landing sensor picks them up; or `data-platform ingest`)."""
    if (key is None) == (all_of is None):
        raise typer.BadParameter("give one quarantined KEY, or --all DATASET")
    custody = _custody()
    entries = custody.quarantined(all_of)
    chosen = entries if all_of else [e for e in entries if e.key == key]
    if not chosen:
        console.print(f"[red]no quarantined upload {key or f'of {all_of}'}[/]")
        raise typer.Exit(1)
    for entry in chosen:
        landing = custody.retry(entry)
        console.print(f"back in landing: {landing}  (was {entry.key})")
    console.print(
        "The landing sensor ingests them within its interval (`make dev`), "
        "or run `data-platform ingest` now."
    )
