"""`data-platform datasets`: declare a dataset from a sample, list them, show one."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    import polars as pl

    from data_platform.contracts import Contract
    from data_platform.lakehouse import Lakehouse
    from data_platform.settings import Settings

console = Console()
errors = Console(stderr=True)
datasets_app = typer.Typer(
    help="Datasets are YAML contracts in the datasets folder ($DP_DATASETS_DIR, default "
    "./datasets): `init` proposes one from a sample, `list` and `show` describe them.",
    no_args_is_help=True,
)
SAMPLE_ROWS = 200_000


def read_sample(source: str, settings: Settings, rows: int = SAMPLE_ROWS) -> pl.DataFrame:
    """Up to `rows` rows of a local file, an `s3://bucket/key` or a key in the lake's bucket."""
    from data_platform.ingest import SOURCE_ROW, upload_format
    from data_platform.ingest.problems import Problem, UploadError
    from data_platform.ingest.read import decompressed, read_batches
    from data_platform.storage import ObjectStore

    fmt = upload_format(source)
    with tempfile.TemporaryDirectory(prefix="dp-sample-") as tmp:
        local = Path(source).expanduser()
        if local.is_file():
            data: bytes | Path = local
        else:
            bucket, _, key = source.removeprefix("s3://").partition("/")
            if not source.startswith("s3://"):
                bucket, key = settings.bucket, source
            store = ObjectStore.from_settings(settings, bucket=bucket)
            data = Path(tmp) / "sample"
            store.get_file(key, data)
        data = decompressed(data, fmt, source, Path(tmp))
        batch = next(read_batches(data, fmt, source, rows), None)
    if batch is None:
        raise UploadError(source, Problem("the sample has a header but no rows"))
    return batch.drop(SOURCE_ROW)


@datasets_app.command("init")
def init(
    name: Annotated[str, typer.Argument(help="The dataset's name (snake_case).")],
    sample: Annotated[
        str,
        typer.Option(
            "--from",
            help="A sample upload: a local file, s3://bucket/key, or a key in the lake's bucket "
            "(CSV, TSV, Parquet, JSON Lines; .gz/.zst too).",
        ),
    ],
    force: bool = typer.Option(False, help="Replace an existing contract file."),
) -> None:
    """Propose a contract from a sample and write it to <datasets dir>/<name>.yaml.

    Prints what was inferred and why: types, missing values, a key (one column, several,
    or none), text columns to embed, a label and its classes, a target, rules. Edit the
    YAML, then upload files to landing/<name>/: no code to write.
    """
    from data_platform.contracts import parse_contract
    from data_platform.contracts.infer import (
        infer_contract,
        personal_reasons,
        render_yaml,
        snake,
    )
    from data_platform.ingest.problems import UploadError
    from data_platform.settings import Settings
    from data_platform.storage import StorageError

    settings = Settings()
    if snake(name) != name:
        raise typer.BadParameter(f"use a snake_case name, e.g. {snake(name)!r}", param_hint="NAME")
    target = settings.datasets_dir / f"{name}.yaml"
    if target.exists() and not force:
        console.print(f"[red]{target} exists[/]: edit it, or pass --force to replace it")
        raise typer.Exit(1)
    try:
        frame = read_sample(sample, settings)
    except (UploadError, StorageError) as exc:
        console.print(f"[red]cannot read the sample[/]: {exc}")
        raise typer.Exit(1) from None
    proposal = infer_contract(frame, name, source=sample)
    text = render_yaml(proposal)
    parse_contract(text, str(target), expected_name=name)  # what we write must load
    settings.datasets_dir.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    contract = proposal.contract
    table = Table(title=f"{name}: {frame.height:,} sample rows, {len(frame.columns)} columns")
    for header in ("column", "type", "why"):
        table.add_column(header, overflow="fold")
    for column_name, column in contract.columns.items():
        kind = column.type + (f" ({column.timezone})" if column.timezone else "")
        kind += f" of {column.items}" if column.items else ""
        table.add_row(column_name, kind, proposal.reasons.get(column_name, ""))
    console.print(table)
    for part in ("key", "mode", "text", "label", "target"):
        console.print(f"[bold]{part:7s}[/] {proposal.reasons[part]}")
    for column_name, why in personal_reasons(proposal).items():
        console.print(f"[bold yellow]personal[/] {column_name}: {escape(why)}")
    layers = _layers(contract)
    console.print(f"[bold]layers[/]  {', '.join(layers)}")
    console.print(
        f"Wrote [bold]{target}[/]. Edit it, then upload files to "
        f"s3://{settings.bucket}/{settings.landing_prefix}{name}/"
    )


@datasets_app.command("list")
def list_datasets() -> None:
    """Every declared dataset: version, key, layers, and rows per layer (when reachable).

    A broken contract file is named on stderr (file, line, field) and the others are
    listed; the exit code is then 1.
    """
    from data_platform.contracts import scan_contracts
    from data_platform.settings import Settings

    settings = Settings()
    scan = scan_contracts(settings.datasets_dir)
    contracts = scan.contracts
    lake = _lake(settings) if contracts else None
    table = Table(title=f"datasets in {settings.datasets_dir}")
    for column in ("dataset", "version", "key", "layers", "rows (raw/staged/transformed)"):
        table.add_column(column)
    for contract in contracts:
        counts = "/".join(
            _count(lake, contract.table(layer)) for layer in ("raw", "staged", "transformed")
        )
        table.add_row(
            contract.name,
            str(contract.version),
            ", ".join(contract.key) or "(upload, row)",
            ", ".join(_layers(contract)),
            counts,
        )
    console.print(table)
    if scan.errors:
        for error in scan.errors:
            _error(str(error))
        raise typer.Exit(1)


@datasets_app.command("show")
def show(name: Annotated[str, typer.Argument(help="The dataset to describe.")]) -> None:
    """One dataset: its contract, its layers with row counts and latest snapshots."""
    settings, contract = _load(name)
    console.print(f"[bold]{contract.name}[/] v{contract.version}: {contract.description}")
    console.print(f"contract   {settings.datasets_dir / (name + '.yaml')}")
    console.print(f"key        {', '.join(contract.key) or '(upload and row number)'}")
    console.print(f"text       {', '.join(contract.text) or '-'}")
    label = contract.label
    console.print(f"label      {f'{label.column}: {list(label.classes)}' if label else '-'}")
    target = contract.target
    console.print(f"target     {f'{target.column} ({target.task})' if target else '-'}")
    columns = Table(title="columns")
    for header in ("column", "type", "rules"):
        columns.add_column(header)
    for column_name, column in contract.columns.items():
        rules = column.model_dump(exclude_defaults=True, exclude={"type", "description"})
        columns.add_row(column_name, column.type, ", ".join(f"{k}={v}" for k, v in rules.items()))
    console.print(columns)
    lake = _lake(settings)
    layers = Table(title="layers")
    for header in ("table", "rows", "snapshot", "contract version"):
        layers.add_column(header)
    for layer in _layers(contract):
        table_name = contract.table(layer)
        loaded = lake.load(table_name) if lake else None
        version = loaded.properties.get("data-platform.contract.version", "-") if loaded else "-"
        snapshot = str(lake.snapshot_id(table_name) or "-") if loaded and lake else "-"
        layers.add_row(table_name, _count(lake, table_name), snapshot, version)
    console.print(layers)
    if lake is not None:
        _show_changes(contract, lake)
        _show_pending(contract, settings)


def _show_pending(contract: Contract, settings: Settings) -> None:
    """Uploads waiting in landing, and why the last ingest run of the dataset failed."""
    from data_platform.ingest.landing import pending_uploads
    from data_platform.storage import ObjectStore, StorageError

    prefix = contract.landing_prefix(settings.landing_prefix)
    try:
        waiting = list(pending_uploads(ObjectStore.from_settings(settings), prefix))
    except (OSError, StorageError):
        return
    if not waiting:
        console.print("pending    none (landing is empty)")
        return
    shown = ", ".join(sorted(waiting)[:5]) + (" ..." if len(waiting) > 5 else "")
    console.print(f"pending    {len(waiting):,} upload(s) in landing: {escape(shown)}")
    failure = _last_failure(contract.name)
    if failure:
        console.print(f"[yellow]last failure[/] {escape(failure)}")


def _last_failure(dataset: str) -> str | None:
    """The error of the dataset's latest ingest run, if that run failed."""
    from data_platform.defs.ingest.failures import last_failure
    from data_platform.ops.cli.lineage import open_instance

    with open_instance() as instance:
        return last_failure(instance, dataset)


def _show_changes(contract: Contract, lake: Lakehouse) -> None:
    """What the contract changes in its tables: in place, or by `datasets migrate`."""
    from data_platform.ingest.evolution import contract_changes, migration_advice
    from data_platform.storage import StorageError

    try:
        changes = contract_changes(contract, lake)
    except (OSError, StorageError):
        return
    for table in changes:
        for change in table.changes:
            style = "green" if change.in_place else "yellow"
            console.print(f"[{style}]change[/]     {table.table}: {escape(change.describe())}")
    advice = migration_advice(contract, changes)
    if advice:
        console.print(f"[yellow]migrate[/]    {escape(advice)}")


@datasets_app.command("migrate")
def migrate(
    name: Annotated[str, typer.Argument(help="The dataset whose tables to rebuild.")],
) -> None:
    """Rebuild a dataset's tables under its changed contract (a type that Iceberg cannot
    change in place, e.g. integer -> float).

    The current raw, staged and transformed tables are tagged `before-migrate` and kept
    aside as `<layer>.<name>__v<old version>` (their snapshots and tags still read the old
    data); then every upload in the archive, and every one waiting in landing, is ingested
    again under the new contract, in batches, through the ingest job (its runs and
    materialisations are recorded as the sensor's are). Rows per layer, before and after,
    end the report; rows the new rules refuse go to quarantine with their reasons.
    """
    from data_platform.ops.cli.lineage import open_instance
    from data_platform.ops.migrate import migrate_dataset

    settings, contract = _load(name)

    with open_instance() as instance:
        report = migrate_dataset(settings, contract, instance=instance, progress=console.print)
    if report is None:
        console.print(f"{name}: the tables already agree with the contract; nothing to migrate")
        return
    for layer, (before, after) in report.rows.items():
        console.print(f"[bold]{layer:12s}[/] {before:>10,} rows before  {after:>10,} after")
    for table, aside in report.kept_aside.items():
        console.print(f"kept aside   {table} -> {aside} (tag before-migrate)")
    if report.refused:
        console.print(f"[yellow]{report.refused} upload(s) refused under the new contract[/]")
        raise typer.Exit(1)


def _load(name: str) -> tuple[Settings, Contract]:
    """The settings and dataset `name`'s contract; a missing or broken one exits 1, named."""
    from data_platform.contracts import ContractError, load_dataset
    from data_platform.settings import Settings

    settings = Settings()
    try:
        return settings, load_dataset(settings.datasets_dir, name)
    except (KeyError, ContractError) as exc:
        _error(exc.args[0])
        raise typer.Exit(1) from None


def _error(message: str) -> None:
    """`message` as it is: file:line: field: problem, one line each, never re-wrapped."""
    errors.print(f"error: {message}", style="red", markup=False, highlight=False, soft_wrap=True)


def _layers(contract: Contract) -> list[str]:
    layers = ["raw", "staged", "transformed"]
    if contract.has_text:
        layers.append("embedded")
    if contract.has_target:
        layers.append("inference")
    if contract.has_labels:
        layers.append("labeled")
    return layers


def _lake(settings: Settings) -> Lakehouse | None:
    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.settings import StackNotRunningError

    try:
        return Lakehouse(open_catalog(settings))
    except StackNotRunningError:  # no store yet: the contracts alone are shown
        return None


def _count(lake: Lakehouse | None, table: str) -> str:
    from data_platform.storage import StorageError

    if lake is None:
        return "-"
    try:
        return f"{lake.count(table):,}" if lake.load(table) is not None else "-"
    except (OSError, StorageError):  # the store is configured but down
        return "?"
