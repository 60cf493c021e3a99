"""`data-platform labeling up|down|status|install|export`: the labeling server and its export."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from data_platform.ops.stack.label_studio import LocalLabelStudio
    from data_platform.settings import Settings

labeling_app = typer.Typer(
    help="The labeling server (a local Label Studio, or DP_LABELING_URL) and label export.",
    no_args_is_help=True,
)
console = Console()


def local_server(settings: Settings) -> LocalLabelStudio:
    from data_platform.ops.stack.label_studio import LocalLabelStudio

    return LocalLabelStudio(settings.label_studio_dir)


@labeling_app.command()
def install() -> None:
    """Create Label Studio's own venv and database template (once; a few minutes)."""
    from data_platform.ops.stack.label_studio import LabelStudioInstall

    venv = LabelStudioInstall().ensure()
    console.print(f"Label Studio venv ready at {venv}")


@labeling_app.command()
def up() -> None:
    """Start Label Studio on 127.0.0.1 with a generated admin and API token."""
    from data_platform.ops.stack.label_studio import LabelStudioInstall
    from data_platform.settings import Settings

    settings = Settings()
    labeling = settings.labeling
    if labeling.url:
        console.print(
            f"external {labeling.backend} at {labeling.url} (DP_LABELING_URL); nothing started"
        )
        return
    server = local_server(settings)
    if not LabelStudioInstall().ready:
        console.print("installing Label Studio into its own venv (once, a few minutes)...")
    state = server.up()
    console.print(f"Label Studio at {state.url} (pid {state.pid})")
    console.print(f"log in as {state.username}; password in {server.credentials_file}")


@labeling_app.command()
def down() -> None:
    """Stop the local Label Studio by its PID (projects and labels are kept)."""
    from data_platform.settings import Settings

    stopped = local_server(Settings()).down()
    console.print("stopped" if stopped else "not running")


@labeling_app.command()
def status() -> None:
    """Which labeling server is used, and whether the local one is up."""
    from data_platform.settings import Settings

    settings = Settings()
    labeling = settings.labeling
    if labeling.url:
        console.print(f"server:   external {labeling.backend} at {labeling.url}")
    else:
        server = local_server(settings)
        state = server.state()
        where = (
            f"local Label Studio, up at {state.url} (pid {state.pid})" if state else "local, down"
        )
        console.print(f"server:   {where}")
        if state:
            console.print(f"login:    {state.username} (password in {server.credentials_file})")
    console.print(f"projects: {labeling.project_prefix}<dataset>")


@labeling_app.command()
def export(
    dataset: str = typer.Argument(..., help="A declared dataset, e.g. reviews."),
    out: str | None = typer.Option(
        None, "--out", help="Parquet path or s3://bucket/key; default <home>/exports/."
    ),
    validation_fraction: float = typer.Option(0.2, help="Share of records in validation."),
) -> None:
    """Write labeled/<dataset> to a Parquet training file with a stable train/validation split."""
    from data_platform.contracts import ContractError, load_dataset
    from data_platform.labeling.export import export_training_file
    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.settings import Settings

    settings = Settings()
    try:
        spec = load_dataset(settings.datasets_dir, dataset)
    except (KeyError, ContractError) as exc:
        console.print(exc.args[0], style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    target = out or str(settings.home_dir / "exports" / f"{spec.name}_labeled.parquet")
    lake = Lakehouse(open_catalog(settings))
    try:
        result = export_training_file(
            lake, spec, target, validation_fraction=validation_fraction, settings=settings
        )
    except LookupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"{result.rows} labeled rows -> {result.path} "
        f"(train {result.train_rows}, validation {result.validation_rows}; "
        f"{result.excluded_rows} outside the declared classes left out; "
        f"labeled.{spec.name} snapshot {result.snapshot_id})"
    )
