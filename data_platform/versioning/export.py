"""`export_dataset`: a lake table as of a tag, as Parquet files in a DVC-tracked folder.

The export reads `<layer>.<dataset>` at the snapshot a tag (or id) names, writes it sorted
(so the same snapshot always gives the same bytes, and DVC stores it once), tracks the
folder with `dvc add`, and records in the `.dvc` file's `meta:` which Iceberg snapshots
the files came from. `dvc push` then stores them in the lake's bucket; `dvc pull` on a
fresh clone gets the identical bytes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from data_platform.contracts import load_dataset
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.lakehouse.uploads import uploads_in
from data_platform.settings import Settings
from data_platform.versioning.dvc import DVC_REMOTE, DvcError, DvcRepo

ROWS_PER_FILE = 1_000_000
PART_GLOB = "part-*.parquet"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, where DVC tracks it, and the snapshots it came from."""

    table: str
    as_of: str
    snapshot_id: int
    rows: int
    files: tuple[Path, ...]
    dvc_file: Path
    snapshots: dict[str, int]
    pushed: bool


def export_dataset(
    settings: Settings,
    dataset: str,
    as_of: str,
    out_dir: Path,
    *,
    layer: str = "transformed",
    push: bool = False,
    remote: str = DVC_REMOTE,
    rows_per_file: int = ROWS_PER_FILE,
    dvc_python: str | None = None,
) -> ExportResult:
    """Write `<layer>.<dataset>` as of `as_of` into `out_dir`, track it with DVC, maybe push.

    Args:
        settings: The platform settings (catalog, store, and the DVC remote).
        dataset: A declared dataset, e.g. "reviews".
        as_of: An Iceberg tag (e.g. a release) or snapshot id of the table.
        out_dir: The folder to write (replaced whole), inside a git repository; DVC is
            initialised at the git root if the repository has no DVC project yet.
        layer: The layer to export; the training-ready `transformed` by default.
        push: Also `dvc push` the files to the lake's bucket.
        remote: Name of the DVC remote to configure and push to.
        rows_per_file: Rows per Parquet file.
        dvc_python: An interpreter with DVC installed; found automatically by default.

    Raises:
        KeyError: unknown dataset. LookupError: unknown table or tag. DvcError: dvc failed.
    """
    contract = load_dataset(settings.datasets_dir, dataset)
    table = contract.table(layer)
    lake = Lakehouse(open_catalog(settings))
    snapshot_id = lake.resolve_snapshot(table, as_of)
    if snapshot_id is None:
        raise LookupError(f"table {table} has no snapshot yet: nothing to export")
    data = _sorted(lake.read(table, snapshot_id=snapshot_id).data, contract.id_column)
    repo = DvcRepo.open_or_init(out_dir, dvc_python)
    repo.configure_remote(settings, remote)
    files = _write_parts(data, out_dir, rows_per_file)
    dvc_file = repo.add(out_dir)
    snapshots = _snapshots_at(lake, dataset, as_of) | {table: snapshot_id}
    meta = {
        "dataset": dataset,
        "layer": layer,
        "table": table,
        "as_of": str(as_of),
        "snapshot_id": snapshot_id,
        "snapshots": dict(sorted(snapshots.items())),
        "rows": data.num_rows,
        "files": len(files),
    }
    if SOURCE_KEY in data.column_names:  # a table of uploads: which ones the export holds
        meta["uploads"] = [u.as_json() for u in uploads_in(lake, table, snapshot_id)]
    _write_meta(dvc_file, meta)
    if push:
        repo.push(dvc_file, remote)
    return ExportResult(
        table, str(as_of), snapshot_id, data.num_rows, files, dvc_file, snapshots, push
    )


def pull_dataset(
    settings: Settings, dvc_file: Path, *, remote: str = DVC_REMOTE, dvc_python: str | None = None
) -> Path:
    """`dvc pull` one export (e.g. on a fresh clone), writing the local credentials first.

    Returns:
        The folder the data was checked out to.
    """
    repo = DvcRepo.find(dvc_file, dvc_python)
    if repo is None:
        raise DvcError(f"{dvc_file} is not inside a DVC project")
    repo.configure_remote(settings, remote)
    repo.pull(dvc_file, remote)
    return dvc_file.with_name(dvc_file.name.removesuffix(".dvc"))


def read_export_meta(dvc_file: Path) -> dict[str, Any]:
    """The `meta:` an export recorded in its `.dvc` file."""
    return yaml.safe_load(dvc_file.read_text()).get("meta", {})


def _sorted(data: pa.Table, id_column: str) -> pa.Table:
    """Rows in a stable order: by id, then every other plain column (ties broken)."""
    keys = [id_column] if id_column in data.column_names else []
    keys += [f.name for f in data.schema if f.name not in keys and not pa.types.is_nested(f.type)]
    return data.sort_by([(k, "ascending") for k in keys]) if keys else data


def _write_parts(data: pa.Table, out_dir: Path, rows_per_file: int) -> tuple[Path, ...]:
    out_dir.mkdir(parents=True, exist_ok=True)
    strangers = [p.name for p in out_dir.iterdir() if not p.match(PART_GLOB)]
    if strangers:
        raise DvcError(f"{out_dir} holds files an export did not write ({strangers[:3]}): refusing")
    for old in out_dir.glob(PART_GLOB):
        old.unlink()
    files = []
    for index, start in enumerate(range(0, max(data.num_rows, 1), rows_per_file)):
        path = out_dir / f"part-{index:05d}.parquet"
        pq.write_table(data.slice(start, rows_per_file), path, compression="zstd")
        files.append(path)
    return tuple(files)


def _snapshots_at(lake: Lakehouse, dataset: str, as_of: str) -> dict[str, int]:
    """The snapshot `as_of` names in every layer's table of `dataset` that has it."""
    found = {}
    for table in lake.tables():
        if table.split(".", 1)[1] != dataset:
            continue
        try:
            snapshot = lake.resolve_snapshot(table, as_of)
        except LookupError:
            continue
        if snapshot is not None:
            found[table] = snapshot
    return found


def _write_meta(dvc_file: Path, meta: dict[str, Any]) -> None:
    content = yaml.safe_load(dvc_file.read_text())
    content["meta"] = meta
    dvc_file.write_text(yaml.safe_dump(content, sort_keys=False))
