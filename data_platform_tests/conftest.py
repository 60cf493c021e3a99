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

# The longest files, longest first (`--durations`, setup included; the UI journeys and the
# daemon tests wait on `dagster dev` runs); every other file follows in its usual order.
LONG_POLES = (
    "data_platform_tests/ui/test_journeys.py",
    "data_platform_tests/lakehouse/test_concurrency.py",
    "data_platform_tests/versioning/test_export.py",
    "data_platform_tests/defs/test_embedded.py",
    "data_platform_tests/defs/test_operations.py",
    "data_platform_tests/versioning/test_backfill_as_of.py",
    "data_platform_tests/labeling/test_labeled_flow.py",
    "data_platform_tests/defs/test_benchmarks.py",
    "data_platform_tests/defs/test_inference.py",
    "data_platform_tests/defs/test_crashes.py",
    "data_platform_tests/defs/test_daemon.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long poles first; a stable sort keeps each file's own test order."""
    rank = {path: i for i, path in enumerate(LONG_POLES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(LONG_POLES)))
