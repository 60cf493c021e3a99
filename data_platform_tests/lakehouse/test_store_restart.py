"""Reads through the tables' FileIO outlast a store that restarts under them.

A store that restarts answers with refused connections and, while its volumes register
again, with HTTP 500; Arrow's default (three tries in about 0.1 s) surfaced that as
`OSError: AWS Error INTERNAL_FAILURE during GetObject` in CI.
"""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from data_platform.lakehouse import Lakehouse, open_catalog

pytestmark = pytest.mark.integration


def test_a_read_waits_for_a_store_that_restarts(own_stack):
    stack, settings = own_stack
    state = stack.state()
    lake = Lakehouse(open_catalog(settings))
    lake.append("raw.kept", pa.table({"v": list(range(1000))}))
    stack.down()
    restart = threading.Timer(1.0, stack.up)  # back on the same ports a moment later
    restart.start()
    try:
        assert lake.count("raw.kept") == 1000  # begins while the store is down
    finally:
        restart.join()  # `up` may still be probing: its reads come after the store serves
    restarted = stack.state()
    assert restarted is not None
    assert restarted.endpoint == state.endpoint  # the same store, back on its ports
