"""The browser harness for the UI journeys (the `dagster_dev` fixture comes from fixtures/)."""

from data_platform_tests.ui.browser import (  # noqa: F401 - fixtures and hook, by name
    browser,
    page,
    pytest_runtest_makereport,
)
