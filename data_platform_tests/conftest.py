"""Fixtures live in plugins under fixtures/, one per real service.

`make test` runs the suite on two xdist workers, one test file at a time each
(`--dist loadfile --no-loadscope-reorder`): files are handed out in collection order,
so the hook below puts the longest files first. Otherwise a long one (the UI journeys
start `dagster dev` and wait on its runs) can start last and leave one worker busy
for minutes while the other idles.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "data_platform_tests.fixtures.s3",
    "data_platform_tests.fixtures.postgres",
    "data_platform_tests.fixtures.lakehouse",
    "data_platform_tests.fixtures.dagster",
    "data_platform_tests.fixtures.dagster_dev",
    "data_platform_tests.fixtures.label_studio",
    "data_platform_tests.fixtures.ray_cluster",
]

# The longest files, longest first: setup, call and teardown summed per file from
# `--durations=0` of a full `make test` on 2 cores (seconds, 2026-12-07). The UI journeys
# and the daemon tests wait on `dagster dev` runs; the crash tests on a dead store.
LONG_POLES = (
    "data_platform_tests/ui/test_journeys.py",  # 110
    "data_platform_tests/defs/test_crashes.py",  # 66
    "data_platform_tests/defs/test_daemon.py",  # 40
    "data_platform_tests/lakehouse/test_concurrency.py",  # 37
    "data_platform_tests/defs/test_operations.py",  # 36
    "data_platform_tests/labeling/test_labeled_flow.py",  # 35
    "data_platform_tests/versioning/test_backfill_as_of.py",  # 30
    "data_platform_tests/defs/test_byod.py",  # 29
    "data_platform_tests/stack/test_seaweed.py",  # 25
    "data_platform_tests/defs/test_embedded.py",  # 22
    "data_platform_tests/defs/test_bad_uploads.py",  # 19
    "data_platform_tests/lakehouse/test_maintenance.py",  # 17
    "data_platform_tests/defs/test_benchmarks.py",  # 17
    "data_platform_tests/defs/test_ingest_cli.py",  # 16
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long poles first; a stable sort keeps each file's own test order."""
    rank = {path: i for i, path in enumerate(LONG_POLES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(LONG_POLES)))
