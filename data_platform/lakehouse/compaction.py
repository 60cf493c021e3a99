"""Compaction: rewrite the small files of a partition as one file, in one snapshot.

Every append or partition write adds data files; a partition fed by many small appends
ends up as many small files, and every read pays for each. Compaction reads the
partition at the current snapshot and replaces its files in one OVERWRITE snapshot (the
files it read out, the rewritten file in). The commit asserts that the snapshot it read is
still current, so a concurrent writer makes it fail rather than lose rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, IsNull
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.table import Table

from data_platform.lakehouse.deletes import row_level_overwrite

COMPACT_PROPERTY = "data-platform.maintenance"


@dataclass(frozen=True)
class PartitionFiles:
    """The current data files of one partition (`values` empty: unpartitioned table)."""

    values: dict[str, Any]
    files: int
    bytes: int
    rows: int
    deleted: int = 0  # rows its position-delete files remove (upserts)

    @property
    def label(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.values.items()) or "(unpartitioned)"


@dataclass(frozen=True)
class CompactedPartition:
    """One partition rewritten (or, in a dry run, that would be)."""

    table: str
    partition: str
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    rows_before: int
    rows_after: int
    snapshot_id: int | None

    @property
    def bytes_saved(self) -> int:
        return self.bytes_before - self.bytes_after


def partition_files(table: Table) -> list[PartitionFiles]:
    """File count, bytes and rows per partition of the current snapshot (identity specs)."""
    if table.current_snapshot() is None:
        return []
    columns = _partition_columns(table)
    if columns is None:
        return []
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in table.inspect.data_files().to_pylist():
        group = groups[_key(row, columns)]
        group[0] += 1
        group[1] += row["file_size_in_bytes"]
        group[2] += row["record_count"]
    for row in table.inspect.delete_files().to_pylist():
        groups[_key(row, columns)][3] += row["record_count"]
    return [
        PartitionFiles(dict(zip((c for _, c in columns), key, strict=True)), *totals)
        for key, totals in sorted(groups.items(), key=lambda kv: str(kv[0]))
        if totals[0]  # (delete files of no live data file are not a partition)
    ]


def _key(row: dict[str, Any], columns: list[tuple[str, str]]) -> tuple[Any, ...]:
    partition = row.get("partition") or {}
    return tuple(partition.get(field) for field, _ in columns)


def compaction_candidates(
    table: Table, *, min_files: int, max_avg_bytes: int, max_deleted: float = 1.0
) -> list[PartitionFiles]:
    """Partitions with at least `min_files` files averaging at most `max_avg_bytes`, and
    those whose position-delete files remove at least `max_deleted` of their rows (every
    read of them pays for the deletes: rewriting folds them)."""
    return [
        p
        for p in partition_files(table)
        if (p.files >= max(min_files, 2) and p.bytes / p.files <= max_avg_bytes)
        or (p.deleted and p.deleted >= max_deleted * p.rows)
    ]


def compact_partition(table: Table, partition: PartitionFiles) -> CompactedPartition:
    """Rewrite one partition's rows as one file, in one OVERWRITE snapshot; rows verified.

    The snapshot removes exactly the files read and adds the rewritten ones; pyiceberg
    validates that the removed files are still live, and the commit that the parent is
    still current. Rows that position-delete files removed are left out of the new file,
    and those delete files are removed with the files they applied to.
    """
    snapshot = table.current_snapshot()
    assert snapshot is not None, "a table with files has a current snapshot"
    row_filter = _filter(partition.values)
    scan = table.scan(row_filter=row_filter, snapshot_id=snapshot.snapshot_id)
    tasks = list(scan.plan_files())
    data = scan.to_arrow()  # position deletes applied: they are folded into the new file
    properties = {COMPACT_PROPERTY: f"compact {partition.label}"}
    with table.transaction() as tx:
        rewrite = row_level_overwrite(tx.update_snapshot(snapshot_properties=properties))
        with rewrite:
            for task in tasks:
                rewrite.delete_data_file(task.file)
                for delete_file in task.delete_files:  # folded into the new file
                    rewrite.remove_delete_file(delete_file)
            # the same writer pyiceberg's own append uses (private in 0.12)
            for data_file in _dataframe_to_data_files(
                table_metadata=tx.table_metadata,
                df=data,
                io=table.io,
                write_uuid=rewrite.commit_uuid,
            ):
                rewrite.append_data_file(data_file)
    table.refresh()
    written = table.current_snapshot()
    after = next(
        (p for p in partition_files(table) if p.values == partition.values),
        PartitionFiles(partition.values, 0, 0, 0),
    )
    return CompactedPartition(
        table=".".join(table.name()[-2:]),
        partition=partition.label,
        files_before=len(tasks),
        files_after=after.files,
        bytes_before=sum(task.file.file_size_in_bytes for task in tasks),
        bytes_after=after.bytes,
        rows_before=data.num_rows,
        rows_after=table.scan(row_filter=row_filter).count(),
        snapshot_id=written.snapshot_id if written else None,
    )


def planned(table: Table, partition: PartitionFiles) -> CompactedPartition:
    """What compacting `partition` would do (a dry run): sizes after are unknown."""
    return CompactedPartition(
        table=".".join(table.name()[-2:]),
        partition=partition.label,
        files_before=partition.files,
        files_after=1,
        bytes_before=partition.bytes,
        bytes_after=partition.bytes,
        rows_before=partition.rows - partition.deleted,
        rows_after=partition.rows - partition.deleted,
        snapshot_id=None,
    )


def _partition_columns(table: Table) -> list[tuple[str, str]] | None:
    """(partition field, source column) per field of the current spec; None unless identity.

    A partition of a transform (day, bucket) cannot be selected by equality on its source
    column, so such tables are left alone.
    """
    spec, schema = table.spec(), table.schema()
    if any(str(f.transform) != "identity" for f in spec.fields):
        return None
    return [(f.name, schema.find_field(f.source_id).name) for f in spec.fields]


def _filter(values: dict[str, Any]) -> BooleanExpression:
    # pyiceberg's predicates take the term and value positionally; pydantic's synthesised
    # __init__ hides that from type checkers
    terms: list[BooleanExpression] = [
        IsNull(c) if v is None else EqualTo(c, v)  # type: ignore[call-arg, arg-type]
        for c, v in values.items()
    ]
    if not terms:
        return AlwaysTrue()
    return terms[0] if len(terms) == 1 else And(*terms)
