"""`data-platform export <dataset> --as-of <tag>`: a versioned training set, tracked by DVC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(width=160)  # tables of ids and URIs: wider than a default 80-column pipe


def export(
    dataset: Annotated[str, typer.Argument(help="A declared dataset, e.g. reviews.")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="Iceberg tag (see `snapshot list`) or snapshot id.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write, in a git repo (default exports/<dataset>)."),
    ] = None,
    layer: Annotated[str, typer.Option(help="Layer to export.")] = "transformed",
    push: Annotated[bool, typer.Option("--push", help="Also `dvc push` to the bucket.")] = False,
) -> None:
    """Write a table as of a tag as Parquet into a DVC-tracked folder; optionally push it.

    The `.dvc` file records the Iceberg snapshot ids the files came from: commit it with
    git. DVC's remote is the lake's bucket (keys only in .dvc/config.local).
    """
    from pydantic import ValidationError

    from data_platform.contracts import ContractError
    from data_platform.ops.cli.configured import refuse
    from data_platform.privacy.access import LayerRefused, check_tables
    from data_platform.settings import Settings, StackNotRunningError
    from data_platform.versioning import DVC_PREFIX, DvcError, export_dataset

    try:
        settings = Settings()
        check_tables(settings.identity, [f"{layer}.{dataset}"])
        target = out or Path("exports") / dataset
        result = export_dataset(settings, dataset, as_of, target, layer=layer, push=push)
    except (ValidationError, StackNotRunningError) as exc:
        refuse(exc)
    except (KeyError, LookupError, DvcError, ContractError, LayerRefused) as exc:
        typer.secho(f"error: {exc.args[0] if exc.args else exc}", err=True, fg="red")
        raise typer.Exit(1) from None
    console.print(
        f"[bold]export[/]  {result.table} as of {result.as_of}: snapshot {result.snapshot_id}, "
        f"{result.rows:,} rows in {len(result.files)} file(s) under {target}"
    )
    console.print(f"[bold]dvc[/]     {result.dvc_file} records snapshots {result.snapshots}")
    if result.pushed:
        console.print(f"[bold]pushed[/]  to {settings.s3_uri(DVC_PREFIX)}")
    console.print(f"Commit it: git add {result.dvc_file} {target.parent / '.gitignore'} .dvc")
