"""`data-platform`: run the lakehouse from a terminal. Try `data-platform --help`.

Each command's module is imported when that command runs (or `--help` lists it), and
imports what the command needs inside the command: `data-platform objects ls` pays for
the S3 client, not for Dagster, polars, pyiceberg or the demo (guarded by
data_platform_tests/ops/cli/test_import_cost.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # Typer carries its own copy of click: these are its types
    from typer._click import Command, Context

# name -> "module:attribute": a Typer app (a group of commands) or a command function,
# in the order `--help` lists them
COMMANDS = {
    "demo": "data_platform.ops.cli.demo:demo",
    "ingest": "data_platform.ops.cli.ingest:ingest",
    "dev": "data_platform.ops.cli.dev:dev",
    "lineage": "data_platform.ops.cli.lineage:lineage",
    "search": "data_platform.ops.cli.search:search",
    "sql": "data_platform.ops.cli.sql:sql_command",
    "export": "data_platform.ops.cli.export:export",
    "features": "data_platform.ops.cli.features:features_app",
    "profile": "data_platform.ops.cli.profiles:profile",
    "drift": "data_platform.ops.cli.profiles:drift",
    "maintain": "data_platform.ops.cli.maintain:maintain",
    "stack": "data_platform.ops.cli.stack:stack_app",
    "cluster": "data_platform.ops.cli.cluster:cluster_app",
    "datasets": "data_platform.ops.cli.datasets:datasets_app",
    "objects": "data_platform.ops.cli.objects:objects_app",
    "quarantine": "data_platform.ops.cli.quarantine:quarantine_app",
    "snapshot": "data_platform.ops.cli.snapshot:snapshot_app",
    "labeling": "data_platform.ops.cli.labeling:labeling_app",
}


class LazyCommands(TyperGroup):
    """The top-level group: a command's module is imported only when the command is."""

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: Context) -> Any:
        """Run the command; a `DP_*` setting that does not validate, wherever the command
        reads its settings, is one line and exit 2 (`configured.refuse`), never a traceback."""
        from pydantic import ValidationError

        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            from data_platform.ops.cli.configured import refuse
            from data_platform.settings import LabelingSettings, Settings

            if exc.title not in (Settings.__name__, LabelingSettings.__name__):
                raise
            refuse(exc)


def load_command(name: str) -> Command:
    """The click command `name`, built by Typer exactly as `add_typer`/`command` would."""
    module, _, attribute = COMMANDS[name].partition(":")
    target = getattr(import_module(module), attribute)
    holder = typer.Typer()
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    name="data-platform",
    cls=LazyCommands,
    help="An ML data lakehouse on Dagster: Iceberg layers on S3, checks, embeddings, labels.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main() -> None:
    """The commands are registered lazily (`COMMANDS`); this callback makes `app` a group."""


if __name__ == "__main__":
    app()
