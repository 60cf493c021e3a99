"""`data-platform stack up|down|status`: the embedded S3 server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from data_platform.ops.stack.seaweed import EmbeddedS3
    from data_platform.settings import Settings

stack_app = typer.Typer(help="Start, stop and inspect the embedded S3 store (SeaweedFS).")
console = Console()


def embedded_stack(settings: Settings) -> EmbeddedS3:
    from data_platform.ops.stack.seaweed import EmbeddedS3

    return EmbeddedS3(settings.stack_dir, buckets=(settings.bucket,))


def ensure_stack(settings: Settings) -> str:
    """Start the embedded store unless an external endpoint is configured; say which. The
    de-identifying HMAC's key is made here too (once, 0600, never printed) unless
    DP_PII_KEY gives it, like the store's keys."""
    from data_platform.privacy.secret import pii_key

    pii_key(settings)
    if not settings.uses_embedded_stack:
        return f"external store {settings.s3_endpoint} (DP_S3_ENDPOINT); nothing started"
    from data_platform.ops.stack.access import restrict_analyst

    state = embedded_stack(settings).up()
    restrict_analyst(settings)
    return f"embedded SeaweedFS at {state.endpoint} (pid {state.pid})"


@stack_app.command()
def up() -> None:
    """Start SeaweedFS on 127.0.0.1 with generated keys (an admin and the analyst), create
    the bucket with the analyst's policy, and make the de-identification key (once)."""
    from data_platform.settings import Settings

    console.print(ensure_stack(Settings()))


@stack_app.command()
def down() -> None:
    """Stop the embedded S3 server by its PID (data is kept)."""
    from data_platform.settings import Settings

    stopped = embedded_stack(Settings()).down()
    console.print("stopped" if stopped else "not running")


@stack_app.command()
def status() -> None:
    """Show the store in use: endpoint, bucket, catalog, and whether it is up."""
    from data_platform.settings import Settings

    settings = Settings()
    if settings.uses_embedded_stack:
        state = embedded_stack(settings).state()
        where = f"embedded, up at {state.endpoint} (pid {state.pid})" if state else "embedded, down"
    else:
        where = f"external at {settings.s3_endpoint}"
    console.print(f"store:   {where}")
    console.print(f"bucket:  {settings.bucket}")
    console.print(f"catalog: {settings.catalog_url}")
    if not settings.uses_embedded_stack or state:
        console.print(f"keys:    admin access key {settings.access_key}")
