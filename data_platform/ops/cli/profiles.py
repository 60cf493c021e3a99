"""`data-platform profile` and `data-platform drift`: what a dataset's uploads look like,
and whether one moved away from its reference (exit 1: a training pipeline can gate on it)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def profile(
    name: Annotated[str, typer.Argument(help="The dataset (its contract's name).")],
    upload: Annotated[
        str | None, typer.Option(help="One upload's profile (its key under landing/<name>/).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="The uploads staged held at a tag or snapshot, merged (e.g. release-1)."),
    ] = None,
) -> None:
    """Print a dataset's profile: every upload merged (default), one upload, or the uploads
    behind a tag. Per column: rows, nulls, distinct, min, mean, std, quantiles, max, top values.

    data-platform profile reviews --as-of release-1
    """
    from pyiceberg.expressions import AlwaysFalse, EqualTo, In

    from data_platform.contracts.columns import SOURCE_KEY
    from data_platform.profiles.profile import merged
    from data_platform.profiles.reference import profile_rows, uploads_at
    from data_platform.profiles.summary import profile_table

    if upload and as_of:
        _fail("give --upload or --as-of, not both")
    contract, lake = _open(name)
    try:
        if upload:
            rows = profile_rows(lake, contract, EqualTo(SOURCE_KEY, upload))  # type: ignore[call-arg, arg-type]
            what = f"upload {upload}"
        elif as_of:
            keys = uploads_at(lake, contract, as_of)
            rows = profile_rows(lake, contract, In(SOURCE_KEY, keys) if keys else AlwaysFalse())  # type: ignore[call-arg, arg-type]
            what = f"the uploads in {contract.table('staged')} at {as_of}"
        else:
            rows = profile_rows(lake, contract)
            what = "every upload"
    except LookupError as exc:
        _fail(str(exc))
    if not rows.height:
        _fail(f"no profile of {what} in {contract.table('profiles')}")
    result = merged(rows)
    table = Table(title=f"{name}: {what} ({result.uploads:,} upload(s), {result.rows:,} rows)")
    frame = profile_table(result, contract)
    for column in frame.columns:  # a column's name is never cut, the figures fold
        first = column == "column"
        table.add_column(column, overflow="fold", no_wrap=first, min_width=12 if first else None)
    for row in frame.iter_rows():
        table.add_row(*(escape(str(v)) for v in row))
    console.print(table)


def drift(
    name: Annotated[str, typer.Argument(help="The dataset (its contract's name).")],
    upload: Annotated[
        str | None, typer.Option(help="The upload to judge (default: the latest ingested).")
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="A tag or snapshot of staged to compare with (default: the contract's "
            "drift.reference, `previous`: every upload before this one)."
        ),
    ] = None,
) -> None:
    """Compare an upload's profile with a reference, metric by metric; exit 1 when a
    threshold of the contract is crossed.

    data-platform drift reviews --reference release-1
    """
    from data_platform.profiles.drift import compare
    from data_platform.profiles.reference import PREVIOUS, upload_profile
    from data_platform.profiles.reference import reference as reference_of
    from data_platform.profiles.summary import drift_table

    contract, lake = _open(name)
    ref = reference or contract.drift.reference
    try:
        judged = upload_profile(lake, contract, upload)
        if ref == PREVIOUS:
            base = reference_of(
                lake, contract, ref, exclude={judged.key}, before=judged.ingested_at
            )
        else:
            base = reference_of(lake, contract, ref, exclude={judged.key})
    except LookupError as exc:
        _fail(str(exc))
    report = compare(judged.profile, base.profile, contract, base.described, judged.environment)
    table = Table(
        title=f"{name}: upload {judged.key} ({judged.environment}) against {base.described}"
    )
    frame = drift_table(report)
    for column in frame.columns:
        table.add_column(column)
    for row in frame.iter_rows(named=True):
        style = "bold red" if row["drift"] else None
        cells = [
            "" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in row.values()
        ]
        table.add_row(*(escape(c) for c in cells), style=style)
    if report.metrics:
        console.print(table)
    colour = "red" if report.drifted else "green"
    console.print(f"[{colour}]{escape(report.summary())}[/]", highlight=False)
    if report.drifted:
        raise typer.Exit(1)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _open(name: str):  # type: ignore[no-untyped-def]
    from data_platform.contracts import ContractError, load_dataset
    from data_platform.lakehouse import open_lakehouse
    from data_platform.settings import Settings

    settings = Settings()
    try:
        contract = load_dataset(settings.datasets_dir, name)
    except (ContractError, LookupError, OSError) as exc:
        _fail(str(exc))
    return contract, open_lakehouse(settings)


def _fail(message: str) -> typer.Exit:  # type: ignore[misc]
    console.print(f"[red]error[/]: {escape(message)}", highlight=False)
    raise typer.Exit(2)
