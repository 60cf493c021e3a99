"""`data-platform ingest`: ingest what is waiting in landing now, without the daemon."""

from __future__ import annotations

from typing import Annotated

import dagster as dg
import typer
from rich.console import Console

from data_platform.cli.stack import ensure_stack
from data_platform.contracts import ContractError, load_contracts
from data_platform.definitions import build_definitions
from data_platform.runner import RunOutcome, ingest_landing, prepare_dagster_home
from data_platform.settings import Settings

console = Console()


def ingest(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="Datasets to ingest (default: all).")
    ] = None,
) -> None:
    """Run the ingest job for every upload waiting under landing/<dataset>/, in process.

    The same sensor and job as `make dev`; runs are recorded in the project's Dagster home,
    so the UI shows them. Exits 1 if any upload was refused (see `quarantine list`).
    """
    settings = Settings()
    ensure_stack(settings)
    try:
        contracts = load_contracts(settings.datasets_dir)
    except ContractError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    unknown = set(datasets or ()) - {c.name for c in contracts}
    if unknown:
        console.print(f"[red]unknown dataset(s): {', '.join(sorted(unknown))}[/]")
        raise typer.Exit(1)
    chosen = [c for c in contracts if not datasets or c.name in datasets]
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    defs = build_definitions(contracts=contracts)

    def show(outcome: RunOutcome) -> None:
        status = "[green]ok[/]" if outcome.success else f"[red]refused[/]: {outcome.error}"
        console.print(f"{outcome.dataset} [{outcome.partition}] {status}")

    outcomes = ingest_landing(defs, instance, chosen, on_run=show)
    if not outcomes:
        console.print("nothing waiting in landing")
    if any(not o.success for o in outcomes):
        raise typer.Exit(1)
