"""`data-platform`: run the lakehouse from a terminal. Try `data-platform --help`."""

from __future__ import annotations

import typer

from data_platform.cli.cluster import cluster_app
from data_platform.cli.datasets import datasets_app
from data_platform.cli.demo import demo
from data_platform.cli.dev import dev
from data_platform.cli.export import export
from data_platform.cli.ingest import ingest
from data_platform.cli.labeling import labeling_app
from data_platform.cli.lineage import lineage
from data_platform.cli.maintain import maintain
from data_platform.cli.objects import objects_app
from data_platform.cli.quarantine import quarantine_app
from data_platform.cli.search import search
from data_platform.cli.snapshot import snapshot_app
from data_platform.cli.sql import sql_command
from data_platform.cli.stack import stack_app

app = typer.Typer(
    name="data-platform",
    help="An ML data lakehouse on Dagster: Iceberg layers on S3, checks, embeddings, labels.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(stack_app, name="stack")
app.add_typer(cluster_app, name="cluster")
app.add_typer(datasets_app, name="datasets")
app.add_typer(objects_app, name="objects")
app.command("demo")(demo)
app.command("ingest")(ingest)
app.add_typer(quarantine_app, name="quarantine")
app.command("dev")(dev)
app.command("lineage")(lineage)
app.command("search")(search)
app.command("sql")(sql_command)
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(labeling_app, name="labeling")
app.command("export")(export)
app.command("maintain")(maintain)

if __name__ == "__main__":
    app()
