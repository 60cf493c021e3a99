"""`data-platform ingest`: ingest what is waiting in landing now, without the daemon.

The terminal gets one line per upload; each run's full log is in the Dagster instance
(the UI). Only typer, rich and the standard library at import (the CLI starts fast):
Dagster and the platform are imported when the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from data_platform.ingest.landing import Custody
    from data_platform.ops.runner import RunOutcome

SHOWN_PROBLEMS = 3  # a refusal's line names the first few; `quarantine show` has them all
PROBLEM_CHARS = 100


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def refusal_line(outcome: RunOutcome, custody: Custody) -> str:
    """One line for a refused upload: its first problems, where it went, how to see all."""
    from data_platform.storage import StorageError

    head = f"{outcome.dataset} {outcome.partition}"
    if outcome.quarantined_to is None:  # failed without a verdict: it stays in landing
        first = (outcome.error or "run failed").splitlines()[0]
        return f"{head} failed: {_clip(first, 300)} (left in landing; the run's log in Dagster)"
    try:
        entry = custody.find(outcome.quarantined_to)
        problems, count = entry.problems(), entry.problem_count
    except StorageError:  # the report cannot be read back now: the run's message says why
        problems, count = [(outcome.error or "").splitlines()[0]], 0
    shown = "; ".join(_clip(p, PROBLEM_CHARS) for p in problems[:SHOWN_PROBLEMS])
    more = f"; and {count - SHOWN_PROBLEMS} more" if count > SHOWN_PROBLEMS else ""
    counted = f"{count} problem(s): " if count else ""
    return (
        f"{head} refused, {counted}{shown}{more}. Quarantined, every problem: "
        f"data-platform quarantine show {outcome.quarantined_to}"
    )


def ingest(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="Datasets to ingest (default: all).")
    ] = None,
) -> None:
    """Run the ingest job for every upload waiting under landing/<dataset>/, in process.

    The same sensor and job as `make dev`; runs are recorded in the project's Dagster home,
    so the UI shows them. Exits 1 if any upload was refused (see `quarantine list`), or if
    the store cannot be listed.
    """
    import dagster as dg

    from data_platform.contracts import scan_contracts
    from data_platform.definitions import build_definitions
    from data_platform.ingest.landing import Custody
    from data_platform.ops.cli.stack import ensure_stack
    from data_platform.ops.runner import ingest_landing, prepare_dagster_home
    from data_platform.settings import Settings
    from data_platform.storage import ObjectStore, StorageError

    console = Console()
    errors = Console(stderr=True)

    def fail(message: str) -> typer.Exit:
        errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
        return typer.Exit(1)

    settings = Settings()
    ensure_stack(settings)
    scan = scan_contracts(settings.datasets_dir)
    for broken in scan.errors:  # one line each; the other datasets are still ingested
        errors.print(f"error: {broken}", markup=False, highlight=False, soft_wrap=True)
    contracts = scan.contracts
    unknown = set(datasets or ()) - {c.name for c in contracts}
    if unknown:
        raise fail(f"unknown or broken dataset(s): {', '.join(sorted(unknown))}")
    chosen = [c for c in contracts if not datasets or c.name in datasets]
    instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
    defs = build_definitions(contracts=contracts)
    custody = Custody(ObjectStore.from_settings(settings), settings)

    def show(outcome: RunOutcome) -> None:
        line = f"{outcome.dataset} {outcome.partition} ok"
        if not outcome.success:
            line = refusal_line(outcome, custody)
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    try:
        outcomes = ingest_landing(defs, instance, chosen, on_run=show)
    except StorageError as exc:  # never "nothing waiting": a listing that failed is unknown
        raise fail(f"cannot list the uploads waiting in landing: {exc}") from None
    if not outcomes:
        console.print("nothing waiting in landing")
    if scan.errors or any(not o.success for o in outcomes):
        raise typer.Exit(1)
