"""Reads through the tables' FileIO outlast a store that restarts under them.

A store that restarts answers with refused connections and, while its volumes register
again, with HTTP 500; Arrow's default (three tries in about 0.1 s) surfaced that as
`OSError: AWS Error INTERNAL_FAILURE during GetObject` in CI.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.settings import Settings
from data_platform.stack.seaweed import EmbeddedS3
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


def test_a_read_waits_for_a_store_that_restarts(tmp_path: Path):
    stack = EmbeddedS3(tmp_path / "stack")
    state = stack.up()
    settings = Settings(
        home=tmp_path / "home",
        s3_endpoint=state.endpoint,
        s3_access_key=state.access_key,
        s3_secret_key=state.secret_key,
    )
    ObjectStore.from_settings(settings).ensure_bucket()
    lake = Lakehouse(open_catalog(settings))
    lake.append("raw.kept", pa.table({"v": list(range(1000))}))
    stack.down()
    restart = threading.Timer(1.0, stack.up)  # back on the same ports a moment later
    restart.start()
    try:
        assert lake.count("raw.kept") == 1000  # begins while the store is down
        restart.join()  # `up` may still be probing: its reads come after the store serves
        restarted = stack.state()
        assert restarted is not None
        assert restarted.endpoint == state.endpoint  # the same store, back on its ports
    finally:
        restart.join()
        stack.down()
