"""`data-platform objects ...`: the storage client from a terminal.

Every command builds its client with `ObjectStore.from_settings(Settings())`, so it talks
to whatever store the ``DP_*`` variables (or the running embedded stack) point at.
Exit codes: 0 done, 1 the store refused or failed (message on stderr), 2 bad usage or no
store configured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from data_platform.storage import ObjectStore

objects_app = typer.Typer(
    help="List, upload, download, delete and presign objects in the lake's bucket.\n\n"
    "The store and keys come from DP_S3_ENDPOINT / DP_S3_ACCESS_KEY / DP_S3_SECRET_KEY, or "
    "from the embedded stack (`data-platform stack up`); the bucket from DP_BUCKET.",
    no_args_is_help=True,
)

PROGRESS_THRESHOLD = 8 * 1024 * 1024
"""Transfers at least this large show a progress bar unless --no-progress is given."""

BucketOpt = Annotated[
    str | None, typer.Option("--bucket", "-b", help="Bucket to use instead of DP_BUCKET.")
]
ProgressOpt = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress", help="Progress bar on or off (default: on from 8 MiB)."
    ),
]


@contextmanager
def _store(bucket: str | None) -> Iterator[ObjectStore]:
    """The configured store; errors become a one-line message and an exit code."""
    from pydantic import ValidationError

    from data_platform.ops.cli.configured import refuse
    from data_platform.settings import Settings, StackNotRunningError
    from data_platform.storage import ObjectStore, StorageError

    try:
        store = ObjectStore.from_settings(Settings(), bucket=bucket)
    except (ValidationError, StackNotRunningError, ValueError) as exc:
        refuse(exc)
    try:
        yield store
    except StorageError as exc:
        typer.secho(f"error: {exc}", err=True, fg="red")
        raise typer.Exit(1) from None


@contextmanager
def _progress(
    label: str, total: int | None, wanted: bool | None
) -> Iterator[Callable[[int], None] | None]:
    show = wanted if wanted is not None else (total is None or total >= PROGRESS_THRESHOLD)
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _parse_meta(pairs: list[str]) -> dict[str, str]:
    meta = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--meta")
        meta[name] = value
    return meta


@objects_app.command("ls")
def ls(
    prefix: Annotated[str, typer.Argument(help="Only keys starting with this.")] = "",
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Every key below, not one level.")
    ] = False,
    long: Annotated[
        bool, typer.Option("--long", "-l", help="Show size and modification time.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Show at most N entries.")
    ] = None,
    start_after: Annotated[
        str | None, typer.Option("--start-after", help="List keys after this one (paging).")
    ] = None,
    bucket: BucketOpt = None,
) -> None:
    """List objects (and, without -r, the prefixes one level down) in key order."""
    with _store(bucket) as store:
        page = store.list_page(
            prefix, limit=limit or 10**12, start_after=start_after, recursive=recursive
        )
        for info in page.items:
            if not long:
                typer.echo(info.key)
            elif info.is_prefix:
                typer.echo(f"{'PRE':>10}  {'':19}  {info.key}")
            else:
                stamp = f"{info.last_modified:%Y-%m-%d %H:%M:%S}" if info.last_modified else ""
                typer.echo(f"{info.size:>10}  {stamp:19}  {info.key}")
        if page.next_start_after is not None:
            typer.echo(f"... more: --start-after {page.next_start_after!r}", err=True)


@objects_app.command("put")
def put(
    source: Annotated[str, typer.Argument(help="Local file to upload, or '-' for stdin.")],
    key: Annotated[
        str | None, typer.Argument(help="Object key (default: the file's name).")
    ] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="Default: guessed from the name.")
    ] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", "-m", help="User metadata NAME=VALUE; repeat.")
    ] = None,
    part_size: Annotated[
        int, typer.Option("--part-size", min=5, max=5120, help="Multipart part size in MiB.")
    ] = 16,
    progress: ProgressOpt = None,
    bucket: BucketOpt = None,
) -> None:
    """Upload a file (multipart above the part size) and record its SHA-256."""
    metadata = _parse_meta(meta or [])
    if source == "-" and not key:
        raise typer.BadParameter("a KEY is needed when reading stdin", param_hint="KEY")
    target = key or Path(source).name
    with _store(bucket) as store:
        parts = part_size * 1024 * 1024
        if source == "-":
            with _progress(target, None, progress) as advance:
                info = store.put_stream(
                    target,
                    sys.stdin.buffer,
                    content_type=content_type or "application/octet-stream",
                    metadata=metadata,
                    part_size=parts,
                    progress=advance,
                )
        else:
            path = Path(source)
            if not path.is_file():
                raise typer.BadParameter(f"no such file: {source}", param_hint="SOURCE")
            with _progress(target, path.stat().st_size, progress) as advance:
                info = store.put_file(
                    target,
                    path,
                    content_type=content_type,
                    metadata=metadata,
                    part_size=parts,
                    progress=advance,
                )
        typer.echo(f"{store.bucket}/{info.key}  {_human(info.size)}  sha256={info.checksum}")


@objects_app.command("get")
def get(
    key: Annotated[str, typer.Argument(help="Object key to download.")],
    dest: Annotated[
        str | None, typer.Argument(help="Local path (default: the key's last part); '-': stdout.")
    ] = None,
    version_id: Annotated[
        str | None, typer.Option("--version-id", help="A given version (versioned buckets).")
    ] = None,
    progress: ProgressOpt = None,
    bucket: BucketOpt = None,
) -> None:
    """Download an object, checking it against the SHA-256 recorded at upload."""
    with _store(bucket) as store:
        if dest == "-":
            typer.echo(store.get_bytes(key, version_id=version_id), nl=False)
            return
        path = Path(dest or key.rstrip("/").rsplit("/", 1)[-1])
        if path.is_dir():
            path = path / key.rstrip("/").rsplit("/", 1)[-1]
        size = store.stat(key, version_id=version_id).size
        with _progress(key, size, progress) as advance:
            info = store.get_file(key, path, version_id=version_id, progress=advance)
        typer.echo(f"{path}  {_human(info.size)}  sha256={info.checksum}")


@objects_app.command("rm")
def rm(
    keys: Annotated[list[str], typer.Argument(help="Keys to delete (prefixes with -r).")],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Delete everything under each prefix.")
    ] = False,
    missing_ok: Annotated[
        bool, typer.Option("--missing-ok", help="A missing key is not an error.")
    ] = False,
    bucket: BucketOpt = None,
) -> None:
    """Delete objects. A missing key is an error (exit 1) unless --missing-ok."""
    with _store(bucket) as store:
        for key in keys:
            if recursive:
                count = store.delete_prefix(key)
                typer.echo(f"deleted {count} object(s) under {store.bucket}/{key}")
            else:
                store.delete(key, missing_ok=missing_ok)
                typer.echo(f"deleted {store.bucket}/{key}")


@objects_app.command("presign")
def presign(
    key: Annotated[str, typer.Argument(help="Object key the URL is for.")],
    put: Annotated[
        bool, typer.Option("--put", help="A URL for uploading (HTTP PUT) instead of GET.")
    ] = False,
    expires: Annotated[
        int, typer.Option("--expires", "-e", min=1, max=604800, help="Lifetime in seconds.")
    ] = 3600,
    bucket: BucketOpt = None,
) -> None:
    """Print a presigned URL usable without credentials until it expires (max 7 days)."""
    with _store(bucket) as store:
        url = (
            store.presign_put(key, expires=expires)
            if put
            else store.presign_get(key, expires=expires)
        )
        typer.echo(url)


@objects_app.command("stat")
def stat(
    key: Annotated[str, typer.Argument(help="Object key.")],
    version_id: Annotated[str | None, typer.Option("--version-id", help="A given version.")] = None,
    bucket: BucketOpt = None,
) -> None:
    """Show size, ETag, content type, checksum, user metadata and tags of an object."""
    with _store(bucket) as store:
        info = store.stat(key, version_id=version_id, with_tags=True)
        typer.echo(f"key:           {store.bucket}/{info.key}")
        typer.echo(f"size:          {info.size} ({_human(info.size)})")
        typer.echo(f"etag:          {info.etag}")
        typer.echo(f"content-type:  {info.content_type}")
        typer.echo(f"last-modified: {info.last_modified}")
        typer.echo(f"sha256:        {info.checksum or '-'}")
        if info.version_id:
            typer.echo(f"version-id:    {info.version_id}")
        for name, value in sorted(info.metadata.items()):
            typer.echo(f"meta {name}: {value}")
        for name, value in sorted((info.tags or {}).items()):
            typer.echo(f"tag {name}: {value}")
