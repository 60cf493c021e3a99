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

    from data_platform.lakehouse.uploads import UploadRead
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the lineage as JSON (for machines).")
    ] = False,
) -> None:
    """Print which snapshots and landing objects produced an asset's latest materialisation.

    Every materialisation records the Iceberg snapshot it wrote and the snapshot of each
    input it read; this follows them down to the uploaded objects (key and ETag). An asset
    that read whole tables (inference, a labeling queue) read every upload in those
    snapshots: each is listed (key, ETag, rows, when ingested), with a summary line first.
    """
    import json

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
    reads = whole_table_reads(root)
    if as_json:
        document = {
            "asset": root.name,
            "partition": root.partition,
            "snapshot_id": root.snapshot_id,
            "run_id": root.run_id,
            "reads": [
                {"table": t, "snapshot_id": s, "uploads": [u.as_json() for u in ups]}
                for t, s, ups in reads
            ],
            "landing_objects": [
                {"object": n.source_object, "etag": n.source_etag} for n in sources(root)
            ],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    for table, snapshot, uploads in reads:
        rows = sum(u.rows for u in uploads)
        console.print(
            f"[bold]{escape(root.name)}[/] read {table} at snapshot {snapshot}: "
            f"{len(uploads):,} upload(s), {rows:,} rows"
        )
    console.print(render(root))
    for table, _, uploads in reads:
        for upload in uploads:
            console.print(
                f"  {escape(table)}  [cyan]{escape(upload.key)}[/]  ETag {upload.etag or '-'}  "
                f"{upload.rows:,} rows  ingested {upload.ingested_at or '-'}"
            )
    landing = sources(root)
    incomplete = [n for n in root.walk() if n.note]
    count = len(landing) if not reads else sum(len(u) for _, _, u in reads)
    console.print(f"{count} landing object(s); {len(incomplete)} unrecorded input(s)")


def whole_table_reads(root: LineageNode) -> list[tuple[str, str, list[UploadRead]]]:
    """For an unpartitioned materialisation: every upload in each dataset table it read."""
    if root.partition is not None:
        return []  # a partition's chain leads to its own upload
    from data_platform.lakehouse import open_lakehouse
    from data_platform.lakehouse.uploads import uploads_in
    from data_platform.settings import Settings

    lake = open_lakehouse(Settings())
    reads = []
    for node in root.inputs:
        snapshot = node.read_snapshot_id or node.snapshot_id
        if not node.table or not snapshot or lake.load(node.table) is None:
            continue
        columns = lake.load(node.table).schema().column_names  # type: ignore[union-attr]
        if "_source_key" not in columns:
            continue  # not a table of uploads (a benchmark's, a model's)
        reads.append((node.table, snapshot, uploads_in(lake, node.table, int(snapshot))))
    return reads


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
