"""`data-platform search "<query>"`: semantic search over a dataset's vectors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

EXCERPT_CHARS = 80
errors = Console(stderr=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _excerpt(text: str | None, width: int = EXCERPT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _searchable(datasets_dir: Path) -> list[str]:
    """The declared datasets with text columns: the ones that have vectors to search."""
    from data_platform.contracts import load_contracts

    return [c.name for c in load_contracts(datasets_dir) if c.has_text]


def _choose(dataset: str | None, datasets_dir: Path) -> str:
    """The dataset asked for; else the only one with text columns; else an error."""
    from data_platform.contracts import ContractError

    if dataset is not None:
        return dataset
    try:
        searchable = _searchable(datasets_dir)
    except ContractError as exc:
        raise _fail(str(exc)) from None
    if len(searchable) == 1:
        return searchable[0]
    if not searchable:
        raise _fail(f"no dataset in {datasets_dir} declares text columns: nothing to search")
    raise _fail(
        f"several datasets have text to search: {', '.join(searchable)}; choose one with --dataset"
    )


def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Dataset whose vectors to search (needed when several declare text).",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="Rows to show.")] = 10,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", "-w", help="SQL filter on the stored columns, e.g. \"category = 'books'\"."
        ),
    ] = None,
    exact: Annotated[
        bool, typer.Option("--exact", help="Scan every vector instead of using the index.")
    ] = False,
    local_path: Annotated[
        Path | None,
        typer.Option("--local-path", help="Search a local LanceDB folder instead of the bucket."),
    ] = None,
) -> None:
    """Rank a dataset's rows by meaning: score, id, text excerpt and the filter columns."""
    from data_platform.embedding import (
        SCORE_COLUMN,
        DatasetNotFoundError,
        InvalidFilterError,
        VectorStore,
    )
    from data_platform.settings import Settings, StackNotRunningError

    console = Console()
    try:
        settings = Settings()
        dataset = _choose(dataset, settings.datasets_dir)
        store = VectorStore.from_settings(settings, local_path=local_path)
        # Count first: a missing table, an empty one or a bad filter is reported before
        # the embedding model is loaded (several seconds).
        if store.count(dataset) == 0:
            console.print(
                f"Dataset {dataset!r} has no vectors yet: nothing to search. "
                "Materialise its embedding asset first."
            )
            return
        if where and store.count(dataset, where) == 0:
            console.print(f"No rows of {dataset!r} match --where {where!r}.")
            return
        hits = store.search(dataset, query, k=k, where=where, exact=exact)
    except StackNotRunningError as exc:
        raise _fail(str(exc)) from None
    except DatasetNotFoundError as exc:
        raise _fail(str(exc)) from None
    except InvalidFilterError as exc:
        raise _fail(
            f"{exc}\nFilters are SQL over the stored columns, e.g. \"category = 'books'\".", 2
        ) from None
    id_column, text_column = store.columns(dataset)
    table = Table(
        title=f"{dataset}: top {hits.height} for {query!r}" + (f" where {where}" if where else "")
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column(SCORE_COLUMN, justify="right", style="bold")
    table.add_column(id_column, style="cyan", no_wrap=True)
    table.add_column(text_column, overflow="fold")
    rest = [c for c in hits.columns if c not in (SCORE_COLUMN, id_column, text_column)]
    for column in rest:
        table.add_column(column, overflow="fold")
    for rank, row in enumerate(hits.iter_rows(named=True), start=1):
        table.add_row(
            str(rank),
            f"{row[SCORE_COLUMN]:.3f}",
            _cell(row[id_column]),
            _excerpt(row[text_column]),
            *(_cell(row[c]) for c in rest),
        )
    console.print(table)
