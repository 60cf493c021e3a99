"""`data-platform lineage <asset> [--partition P]`: which data produced this materialisation.

Reads the Dagster event log of the project's instance ($DAGSTER_HOME, else
`<DP_HOME>/dagster_home`) and prints the chain of snapshots back to the landing objects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

if TYPE_CHECKING:
    import dagster as dg

    from data_platform.lineage import LineageNode

console = Console(width=160)  # tables of ids and URIs: wider than a default 80-column pipe


def open_instance() -> dg.DagsterInstance:
    """The instance the CLI records runs in: $DAGSTER_HOME wins, else the project's home."""
    import dagster as dg

    from data_platform.ops.runner import prepare_dagster_home
    from data_platform.settings import Settings

    settings = Settings()
    if settings.dagster_home:
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))


def render(node: LineageNode) -> Tree:
    """The chain as a rich tree: one branch per input, landing object and ETag at the leaves."""
    tree = Tree(_label(node))
    _grow(tree, node)
    return tree


def lineage(
    asset: Annotated[str, typer.Argument(help="Asset key, e.g. transformed/reviews.")],
    partition: Annotated[
        str | None, typer.Option("--partition", "-p", help="Partition key (default: latest).")
    ] = None,
) -> None:
    """Print which snapshots and landing objects produced an asset's latest materialisation.

    Every materialisation records the Iceberg snapshot it wrote and the snapshot of each
    input it read; this follows them down to the uploaded objects (key and ETag).
    """
    from data_platform.lineage import parse_asset_key, sources, trace

    try:
        key = parse_asset_key(asset)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="ASSET") from None
    with open_instance() as instance:
        root = trace(instance, key, partition)
    if root is None:
        where = f" partition {partition}" if partition else ""
        typer.secho(f"error: {key.to_user_string()}{where} was never materialised", err=True)
        raise typer.Exit(1)
    console.print(render(root))
    landing = sources(root)
    incomplete = [n for n in root.walk() if n.note]
    console.print(f"{len(landing)} landing object(s); {len(incomplete)} unrecorded input(s)")


def _grow(tree: Tree, node: LineageNode) -> None:
    if node.source_object:
        tree.add(f"[green]landing[/] {escape(node.source_object)}  ETag {node.source_etag}")
    for child in node.inputs:
        _grow(tree.add(_label(child)), child)


def _label(node: LineageNode) -> str:
    parts = [f"[bold]{escape(node.name)}[/]"]
    if node.partition is not None:
        parts.append(f"partition [cyan]{escape(node.partition)}[/]")
    parts.append(f"snapshot {node.snapshot_id}")
    if node.read_snapshot_id:
        parts.append(f"(read at table snapshot {node.read_snapshot_id})")
    if node.run_id:
        parts.append(f"run {node.run_id}")
    if node.timestamp:
        parts.append(datetime.fromtimestamp(node.timestamp, UTC).isoformat(timespec="seconds"))
    if node.note:
        parts.append(f"[yellow]{escape(node.note)}[/]")
    return "  ".join(parts)
