"""`data-platform objects ...`: the storage client from a terminal."""

from __future__ import annotations

import typer

objects_app = typer.Typer(help="List, upload, download, delete and presign objects.")
