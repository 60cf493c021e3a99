"""A throwaway lake: an embedded S3 server in a folder and the settings that reach it.

For benchmarks and tools that must not touch the user's lake: everything (server data,
catalog, Dagster home) lives under one folder, and the server is stopped by its PID on
leaving the `with`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from data_platform.ops.stack.access import restrict_analyst
from data_platform.ops.stack.seaweed import EmbeddedS3
from data_platform.settings import Settings


@contextmanager
def temporary_lake(root: Path, **settings: Any) -> Iterator[Settings]:
    """Settings for a fresh embedded store under `root`, its bucket made (`settings`: more)."""
    stack = EmbeddedS3(root / "stack")
    state = stack.up()
    try:
        lake = Settings(
            home=root / "home",
            s3_endpoint=state.endpoint,
            s3_access_key=state.access_key,
            s3_secret_key=SecretStr(state.secret_key),
            **settings,
        )
        restrict_analyst(lake)
        yield lake
    finally:
        stack.down()
