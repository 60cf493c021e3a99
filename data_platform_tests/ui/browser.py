"""Headless Chromium driven by Playwright: one browser per module, a fresh context per test.

Debian's /usr/bin/chromium is used (Playwright never downloads a browser here; install it
with scripts/install_system_deps.sh). When a test fails, its page is saved as
`failure.png` in the test's tmp dir and the path is printed with the failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1400, "height": 900}
ACTION_TIMEOUT_MS = 30_000  # one UI step (a click, a locator to appear) on a loaded machine
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium with the flags that work here; Playwright gives it a fresh profile dir."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, base_url: str) -> Page:
    """A page in a fresh context (no cookies, no local storage) that skips the welcome modal."""
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    # the first-visit ("nux") modal may cover the page whatever dagster.yaml says
    skip = page.get_by_role("button", name="Skip", exact=True)
    page.add_locator_handler(skip, lambda button: button.click())
    return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every test of a module (`chromium` fails if it is missing)."""
    expect.set_options(timeout=ACTION_TIMEOUT_MS)  # expect's own default is 5 s
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, dagster_dev, request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh browser context on the module's `dagster dev`; a screenshot if the test fails."""
    page = new_page(browser, dagster_dev.url)
    yield page
    report = request.node.stash.get(REPORTS, {}).get("call")
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=shot, full_page=True)
            report.sections.append(("UI screenshot", f"{shot} (at {page.url})"))
        except Exception as exc:  # noqa: BLE001 - the test already failed; keep its error
            report.sections.append(("UI screenshot", f"could not save: {exc!r}"))
    page.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """Keep each phase's report on the item, so the `page` fixture knows if the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report
