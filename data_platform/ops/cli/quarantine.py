"""`data-platform quarantine list|show|retry`: uploads that were refused, and putting them back.

Only typer, rich and the standard library at import (the CLI starts fast); the store's
client is imported inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from data_platform.ingest.landing import Custody, QuarantineEntry

quarantine_app = typer.Typer(
    help="Refused uploads, every version kept with the reason (quarantine/<dataset>/...).",
    no_args_is_help=True,
)
errors = Console(stderr=True)
ID_CHARS = 8  # `custody.short_id`
MIN_REST = 24  # upload and why together, however narrow the terminal
REF_HELP = "A quarantined upload's key, or its id (from `quarantine list`)."


def _custody() -> Custody:
    from data_platform.ingest.landing import Custody
    from data_platform.settings import Settings
    from data_platform.storage import ObjectStore

    settings = Settings()
    return Custody(ObjectStore.from_settings(settings), settings)


def _find(custody: Custody, ref: str) -> QuarantineEntry:
    from data_platform.storage import NotFound

    try:
        return custody.find(ref)
    except NotFound as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@quarantine_app.command("list")
def list_quarantine(
    dataset: Annotated[str | None, typer.Argument(help="Only this dataset.")] = None,
) -> None:
    """Quarantined uploads, oldest first, one line each with a short reason."""
    console = Console()  # sized when the command runs (COLUMNS, the terminal)
    entries = _custody().quarantined(dataset)
    if not entries:
        console.print(f"nothing in quarantine{f' for {dataset}' if dataset else ''}")
        return
    # one line per upload at any width: the columns are sized to the terminal, and the
    # long ones (upload, why) are cut with …; `show` has the whole of each
    when = [e.quarantined_at[:16].replace("T", " ") for e in entries]
    dataset_w = min(12, max(len("dataset"), *(len(e.dataset) for e in entries)))
    fixed = ID_CHARS + dataset_w + len(when[0]) + 2 * 4  # two spaces between five columns
    rest = max(MIN_REST, console.width - fixed)
    upload_w = max(8, min(rest // 3, max(len(e.partition) for e in entries)))
    table = Table(title=f"{len(entries)} quarantined upload(s)", box=None, pad_edge=False)
    for name, width in [
        ("id", ID_CHARS),
        ("dataset", dataset_w),
        ("upload", upload_w),
        ("quarantined", len(when[0])),
        ("why", rest - upload_w),
    ]:
        table.add_column(name, width=width, no_wrap=True, overflow="ellipsis")
    for e, at in zip(entries, when, strict=True):
        problems = e.problems()
        why = f"{e.problem_count} problem(s): {problems[0]}" if problems else e.error
        table.add_row(e.id, e.dataset, e.partition, at, " ".join(why.split()))
    console.print(table, markup=False, highlight=False)
    console.print("Every problem and the key: data-platform quarantine show ID", highlight=False)


@quarantine_app.command("show")
def show(ref: Annotated[str, typer.Argument(help=REF_HELP)]) -> None:
    """One quarantined upload: where it came from, and every problem recorded for it."""
    console = Console()
    entry = _find(_custody(), ref)
    report = entry.report
    lines = [
        entry.key,
        f"  id:             {entry.id}",
        f"  dataset:        {entry.dataset}",
        f"  upload:         {entry.partition}",
        f"  came from:      {report.get('source', '')}",
        f"  quarantined at: {entry.quarantined_at}",
        f"  bytes:          {entry.size:,}",
        f"  etag:           {entry.etag}",
    ]
    if "contract_version" in report:
        lines.append(f"  contract:       version {report['contract_version']}")
    problems = entry.problems()
    lines.append(f"{entry.problem_count} problem(s):")
    lines += [f"  {problem}" for problem in problems]
    if entry.problem_count > len(problems):
        lines.append(f"  ... and {entry.problem_count - len(problems)} more (not recorded)")
    lines.append(f"Put it back into landing: data-platform quarantine retry {entry.key}")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


@quarantine_app.command("retry")
def retry(
    ref: Annotated[str | None, typer.Argument(help=REF_HELP)] = None,
    all_of: Annotated[
        str | None, typer.Option("--all", help="Retry every quarantined upload of DATASET.")
    ] = None,
) -> None:
    """Put quarantined uploads back into landing, bytes unchanged.

    They are ingested under the current contract: the landing sensor picks them up, or
    `data-platform ingest` does now.
    """
    if (ref is None) == (all_of is None):
        raise typer.BadParameter("give one quarantined KEY (or id), or --all DATASET")
    console = Console()
    custody = _custody()
    if all_of is not None:
        chosen = custody.quarantined(all_of)
        if not chosen:
            errors.print(f"error: no quarantined upload of {all_of}", markup=False)
            raise typer.Exit(1)
    else:
        assert ref is not None
        chosen = [_find(custody, ref)]
    for entry in chosen:
        landing = custody.retry(entry)
        console.print(
            f"back in landing: {landing}  (was {entry.key})", markup=False, soft_wrap=True
        )
    console.print(
        "The landing sensor ingests them within its interval (`make dev`), "
        "or run `data-platform ingest` now."
    )
