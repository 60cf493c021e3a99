"""`data-platform dev`: the Dagster UI and daemon on the same stack as the demo."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

console = Console()


def dev(
    port: int = typer.Option(3000, help="Port of the Dagster UI on 127.0.0.1."),
) -> None:
    """Start `dagster dev` (UI + daemon: sensors, backfills) on 127.0.0.1.

    The embedded S3 store is started first unless DP_S3_ENDPOINT points elsewhere.
    Runs are kept in .data_platform/dagster_home (or $DAGSTER_HOME if set).
    A broken dataset contract is named (file, line, field) and nothing is started.
    """
    from data_platform.contracts import scan_contracts
    from data_platform.ops.cli.stack import ensure_stack
    from data_platform.ops.runner import prepare_dagster_home
    from data_platform.ops.stack.dagster_dev import DAGSTER_ENV, dagster_dev_args
    from data_platform.settings import Settings, child_env

    settings = Settings()
    broken = scan_contracts(settings.datasets_dir).errors
    if broken:  # the code location would not load: say why here, in a line per problem
        errors = Console(stderr=True)
        for error in broken:
            errors.print(
                f"error: {error}", style="red", markup=False, highlight=False, soft_wrap=True
            )
        errors.print("fix the contract, then start `data-platform dev` again", markup=False)
        raise typer.Exit(1)
    console.print(f"[bold]store[/]   {ensure_stack(settings)}")
    home = str(settings.dagster_home or prepare_dagster_home(settings))
    console.print(f"[bold]dagster[/] http://127.0.0.1:{port}  (DAGSTER_HOME={home})")
    env = child_env(DAGSTER_HOME=home, **DAGSTER_ENV)
    os.execve(sys.executable, [sys.executable, *dagster_dev_args(port)], env)
