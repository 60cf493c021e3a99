"""What a user does and sees in the Dagster UI, as small functions over a Playwright page.

Selectors follow what Dagster 1.13 renders: the lineage graph is an SVG whose nodes are
`foreignObject`s (a collapsed group has class `group`, its name in `data-tooltip`; an asset
node holds an `asset` icon) and whose edges are `path`s with an arrow marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from data_platform_tests.ui.state import LOCATION

GRAPH_JS = """() => ({
  groups: [...document.querySelectorAll('svg foreignObject.group')].map(node => ({
    name: node.querySelector('[data-tooltip]').getAttribute('data-tooltip'),
    x: +node.getAttribute('x'), y: +node.getAttribute('y'),
    w: +node.getAttribute('width'), h: +node.getAttribute('height'),
  })),
  edges: [...document.querySelectorAll('svg path[marker-end]')].map(p => p.getAttribute('d')),
})"""
ASSET_NODE = "svg foreignObject:has([aria-label='asset'])"


@dataclass(frozen=True)
class Box:
    name: str
    x: float
    y: float
    w: float
    h: float

    def distance(self, px: float, py: float) -> float:
        dx = max(self.x - px, 0.0, px - (self.x + self.w))
        dy = max(self.y - py, 0.0, py - (self.y + self.h))
        return (dx * dx + dy * dy) ** 0.5


def global_lineage(page: Page, groups: int, edges: int) -> tuple[list[str], set[tuple[str, str]]]:
    """Open the global lineage (groups collapsed); the group names and group-to-group edges.

    Each edge is read from the drawing: it starts at its upstream group's box and ends at
    its downstream group's arrow, so it is matched to the nearest box at each end.
    """
    page.goto("/asset-groups")
    expect(page.locator("svg foreignObject.group")).to_have_count(groups)
    expect(page.locator("svg path[marker-end]")).to_have_count(edges)
    drawn = page.evaluate(GRAPH_JS)
    boxes = [Box(**g) for g in drawn["groups"]]
    found = set()
    for d in drawn["edges"]:
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
        start = min(boxes, key=lambda b: b.distance(numbers[0], numbers[1]))
        end = min(boxes, key=lambda b: b.distance(numbers[-2], numbers[-1]))
        found.add((start.name, end.name))
    return [b.name for b in boxes], found


def group_asset_names(page: Page, group: str, count: int) -> list[str]:
    """The asset nodes drawn on a group's page (their last key component)."""
    page.goto(f"/locations/{LOCATION}/asset-groups/{group}")
    nodes = page.locator(ASSET_NODE)
    expect(nodes).to_have_count(count)
    return sorted(n.get_attribute("data-tooltip") for n in nodes.locator("[data-tooltip]").all())


def click_materialize(page: Page, asset_url: str) -> None:
    """The asset page's Materialize button ("Materialize…" opens the partition dialog)."""
    page.goto(asset_url)
    button = page.get_by_role("button", name=re.compile(r"Materialize…?$"))
    expect(button).to_be_enabled()
    button.click()


def launched_run_id(page: Page) -> str:
    """The full run id from the "Launched run" toast's View link."""
    expect(page.get_by_text(re.compile(r"Launched run \w+"))).to_be_visible()
    link = page.locator("a[href^='/runs/']:not([href^='/runs/b/'])", has_text="View")
    return link.first.get_attribute("href").removeprefix("/runs/")


def launched_backfill_id(page: Page) -> str:
    """The backfill id from the "Created backfill" toast's View link."""
    expect(page.get_by_text(re.compile(r"Created backfill \w+"))).to_be_visible()
    return page.locator("a[href^='/runs/b/']").first.get_attribute("href").split("/")[-1]


def partition_dialog(page: Page, asset_url: str) -> Locator:
    click_materialize(page, asset_url)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Launch runs to materialize")).to_be_visible()
    return dialog


def select_partitions(page: Page, dialog: Locator, keys: list[str]) -> None:
    """Tick `keys` in the dialog's partition picker, then close the picker."""
    dialog.get_by_text("Select a partition or create one").click()
    for key in keys:
        name = page.locator(f'[data-tooltip="{key}"]')
        page.get_by_role("menuitem").filter(has=name).locator("label").click()
    dialog.get_by_text("Launch runs to materialize").click()  # closes the picker
    expect(dialog.get_by_text(re.compile(rf"^{len(keys)} partitions?$"))).to_be_visible()


def launch(dialog: Locator) -> None:
    """The dialog's launch button: "Launch 1 run" or "Launch backfill"."""
    button = dialog.get_by_role("button", name=re.compile(r"^Launch (\d+ runs?|backfill)$"))
    expect(button).to_be_enabled()
    button.click()


def metadata_value(page: Page, label: str) -> Locator:
    """The value cell of a row in the asset page's metadata table (not of a nested table)."""
    key = page.locator("td:first-child").get_by_text(label, exact=True)
    return page.locator("tr").filter(has=key).first.locator(":scope > td").last


def open_markdown(page: Page, label: str) -> Locator:
    """A markdown metadata value, rendered inline or in the "Show Markdown" dialog."""
    cell = metadata_value(page, label)
    expect(cell).to_be_visible()
    show = cell.get_by_text("[Show Markdown]")
    if show.count():
        show.click()
        return page.get_by_role("dialog")
    return cell


def markdown_table_headers(page: Page, label: str) -> list[str]:
    """Column headers of a markdown table in the metadata (e.g. the preview)."""
    headers = open_markdown(page, label).locator("table th")
    expect(headers.first).to_be_visible()
    return headers.all_inner_texts()


def show_plots(page: Page, labels: list[str], partitioned: bool) -> None:
    """The metadata's Plots view: one chart per numeric entry (by time, for partitions)."""
    page.get_by_role("button", name=re.compile(r"Plots$")).click()
    if partitioned:  # charts by partition need many partitions; by event need one
        page.get_by_role("button", name=re.compile(r"Events$")).click()
    for label in labels:
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    expect(page.locator("canvas")).to_have_count(len(labels))


def open_partition(page: Page, asset_url: str, key: str) -> None:
    """The asset's partitions tab with `key` selected in the list."""
    page.goto(f"{asset_url}?view=partitions&partition={quote(key, safe='')}")
    expect(page.get_by_text("Latest materialization").first).to_be_visible()
