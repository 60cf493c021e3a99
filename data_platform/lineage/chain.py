"""The lineage chain of one materialisation: input snapshots, recursively, down to landing.

`trace(instance, key, partition)` starts at the latest materialisation of the asset (and
partition). For each `{table: snapshot}` in its `input_snapshots` it finds the
materialisation of that table's asset (key = `table.split('.')`) that wrote the snapshot,
and recurses. Raw materialisations end the chain with the landing object and its ETag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg

from data_platform.lineage.events import (
    input_snapshots,
    latest_materialization,
    materialization_at_snapshot,
    metadata_text,
    snapshot_of,
)

MAX_DEPTH = 16  # deeper than any layer stack; guards against a cycle in bad metadata


@dataclass(frozen=True)
class LineageNode:
    """One materialisation in the chain (or an input whose writer was not recorded).

    Attributes:
        asset_key: The asset that was materialised.
        partition: Its partition key, if partitioned.
        snapshot_id: The Iceberg snapshot the materialisation wrote.
        run_id: The run that materialised it; None when no materialisation was found.
        timestamp: When the materialisation was recorded (Unix seconds).
        table: The Iceberg table (`layer.name`) it wrote.
        read_snapshot_id: The table snapshot the consumer read, when it differs from
            `snapshot_id` (another partition's commit came later; the rows are the same).
        source_object: For raw: the landing object's S3 URI.
        source_etag: For raw: the landing object's ETag.
        inputs: The materialisations that produced the snapshots this one read.
        note: Why the node is incomplete, if it is.
    """

    asset_key: dg.AssetKey
    partition: str | None
    snapshot_id: str | None
    run_id: str | None = None
    timestamp: float | None = None
    table: str | None = None
    read_snapshot_id: str | None = None
    source_object: str | None = None
    source_etag: str | None = None
    inputs: tuple[LineageNode, ...] = ()
    note: str | None = None

    @property
    def name(self) -> str:
        return self.asset_key.to_user_string()

    @property
    def recorded(self) -> bool:
        return self.run_id is not None

    def walk(self) -> Iterator[LineageNode]:
        """This node, then every node below it, depth first."""
        yield self
        for child in self.inputs:
            yield from child.walk()


def parse_asset_key(text: str) -> dg.AssetKey:
    """`transformed/reviews` or `transformed.reviews` -> AssetKey(['transformed', 'reviews'])."""
    parts = [p for p in text.replace(".", "/").split("/") if p]
    if not parts:
        raise ValueError(f"{text!r} is not an asset key, e.g. 'transformed/reviews'")
    return dg.AssetKey(parts)


def trace(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    partition: str | None = None,
    *,
    max_depth: int = MAX_DEPTH,
) -> LineageNode | None:
    """The chain behind the latest materialisation of `asset_key` (of `partition` if given).

    Args:
        instance: The Dagster instance whose event log holds the materialisations.
        asset_key: Where to start, e.g. `AssetKey(["transformed", "reviews"])`.
        partition: A partition key; None takes the latest materialisation of any partition.
        max_depth: How many input levels to follow.

    Returns:
        The root node, or None when the asset (partition) was never materialised.
    """
    record = latest_materialization(instance, asset_key, partition)
    if record is None:
        return None
    return _node(instance, record, depth=0, max_depth=max_depth)


def sources(node: LineageNode) -> list[LineageNode]:
    """The nodes of the chain that name a landing object (raw materialisations)."""
    return [n for n in node.walk() if n.source_object is not None]


def _node(
    instance: dg.DagsterInstance,
    record: dg.EventLogRecord,
    *,
    depth: int,
    max_depth: int,
    read_snapshot: str | None = None,
) -> LineageNode:
    wrote = snapshot_of(record)
    assert record.asset_key is not None  # a materialisation's record names its asset
    inputs: list[LineageNode] = []
    if depth < max_depth:
        for table, snapshot in sorted(input_snapshots(record).items()):
            inputs.append(
                _input(instance, table, snapshot, record.partition_key, depth + 1, max_depth)
            )
    return LineageNode(
        asset_key=record.asset_key,
        partition=record.partition_key,
        snapshot_id=wrote,
        run_id=record.run_id,
        timestamp=record.timestamp,
        table=metadata_text(record, "table"),
        read_snapshot_id=read_snapshot if read_snapshot != wrote else None,
        source_object=metadata_text(record, "source_object"),
        source_etag=metadata_text(record, "source_etag"),
        inputs=tuple(inputs),
    )


def _input(
    instance: dg.DagsterInstance,
    table: str,
    snapshot: str,
    partition: str | None,
    depth: int,
    max_depth: int,
) -> LineageNode:
    key = dg.AssetKey(table.split("."))
    record, _ = materialization_at_snapshot(instance, key, snapshot, partition)
    if record is None:
        return LineageNode(
            asset_key=key,
            partition=partition,
            snapshot_id=snapshot,
            table=table,
            note=f"no materialisation of {key.to_user_string()} recorded snapshot {snapshot}"
            + (f" for partition {partition}" if partition else ""),
        )
    return _node(instance, record, depth=depth, max_depth=max_depth, read_snapshot=snapshot)
