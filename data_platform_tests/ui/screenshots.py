"""Regenerate the README's screenshots of the Dagster UI from a running platform.

Starts its own embedded S3 server and `dagster dev` in a temporary folder (as the UI
tests' fixture does), uploads the demo samples, waits until the landing sensors have
ingested them, materialises the unpartitioned assets named by --materialize from the UI,
then photographs in headless Chromium:

    docs/images/asset-graph.png   the global lineage, every group expanded
    docs/images/asset-page.png    the asset page of transformed/reviews (its metadata)

Usage: python -m data_platform_tests.ui.screenshots [--out docs/images]
       [--materialize inference/reviews]
It lives beside the UI tests because it drives the UI with their page helpers (Playwright
is a dev dependency); the platform itself comes from `data_platform.ops.stack.dagster_dev`.
Needs /usr/bin/chromium (scripts/install_system_deps.sh). Touches no project state.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect
from rich.console import Console

from data_platform.ops.demo.samples import SAMPLES, upload_samples
from data_platform.ops.stack.dagster_dev import DagsterDev, running_dagster_dev
from data_platform.ops.stack.temporary import temporary_lake
from data_platform.storage import ObjectStore
from data_platform_tests.ui import pages, state
from data_platform_tests.ui.browser import ACTION_TIMEOUT_MS, chromium, new_page

REPO = Path(__file__).resolve().parents[2]
INGEST_TIMEOUT_S = 900.0
RUN_TIMEOUT_S = 600.0
console = Console(stderr=True)


@contextmanager
def running_platform(root: Path) -> Iterator[DagsterDev]:
    """S3 server + `dagster dev` (webserver and daemon) under `root`, stopped by PID."""
    with (
        temporary_lake(root, bucket="lake") as settings,
        running_dagster_dev(root, settings, REPO, timeout=300) as dev,
    ):
        yield dev


def ingest_samples(dev: DagsterDev) -> None:
    """Upload the demo samples; wait until the sensors' runs have built every layer."""
    upload_samples(ObjectStore.from_settings(dev.settings), dev.settings.landing_prefix)
    expected = {(s.dataset, s.name) for s in SAMPLES}

    def done() -> bool | None:
        for dataset, key in expected:
            status = state.partition_status(dev, ("transformed", dataset))
            if key in status["failed"]:
                [run, *_] = state.runs_tagged(dev, {"dagster/partition": key})
                log = state.run_messages(dev, run["runId"])
                raise RuntimeError(f"{dataset} {key} failed to ingest:\n{log}")
            if key not in status["materialized"]:
                return None
        return True

    state.poll(done, timeout=INGEST_TIMEOUT_S, what="samples ingested", interval=3)


def materialize(dev: DagsterDev, page: Page, asset_path: str) -> None:
    """Click Materialize on an asset's page and wait for the run to succeed."""
    pages.click_materialize(page, f"/assets/{asset_path}")
    state.assert_run_succeeded(dev, pages.launched_run_id(page), timeout=RUN_TIMEOUT_S)


def shoot_graph(dev: DagsterDev, page: Page, out: Path) -> None:
    """The global lineage, one box per layer, cropped to the drawing.

    A wide window makes the fitted graph large enough for each group to show its status.
    """
    groups = page.locator("svg foreignObject.group")
    page.set_viewport_size({"width": 2400, "height": 900})
    page.goto("/asset-groups")
    expect(groups).to_have_count(len({n.group for n in state.asset_nodes(dev) if n.materializable}))
    expect(page.locator("svg path[marker-end]").first).to_be_visible()
    expect(page.get_by_text("fetching statuses")).to_have_count(0)
    boxes = [g.bounding_box() for g in groups.all()]
    left, top = min(b["x"] for b in boxes) - 40, min(b["y"] for b in boxes) - 40
    right = min(max(b["x"] + b["width"] for b in boxes) + 40, 2400 - 70)  # not the zoom bar
    bottom = max(b["y"] + b["height"] for b in boxes) + 40
    clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
    page.screenshot(path=out, clip=clip)


def shoot_asset_page(page: Page, out: Path, asset_path: str = "transformed/reviews") -> None:
    """An asset page: status, description, and the metadata of its latest materialisation."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"/assets/{asset_path}")
    expect(pages.metadata_value(page, "snapshot_id")).to_be_visible()
    page.screenshot(path=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument(
        "--materialize",
        action="append",
        default=None,
        help="unpartitioned asset to materialise first, e.g. inference/reviews (repeatable)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with tempfile.TemporaryDirectory(prefix="dp-screenshots-") as tmp:
        console.print("starting the S3 server and dagster dev ...")
        with running_platform(Path(tmp)) as dev, chromium() as browser:
            console.print(f"dagster dev at {dev.url}; ingesting the demo samples ...")
            ingest_samples(dev)
            known = {"/".join(n.path) for n in state.asset_nodes(dev)}
            wanted = args.materialize or [k for k in ("inference/reviews",) if k in known]
            page = new_page(browser, dev.url)
            for asset in wanted:
                console.print(f"materialising {asset} from the UI ...")
                materialize(dev, page, asset)
            shoot_graph(dev, page, args.out / "asset-graph.png")
            shoot_asset_page(page, args.out / "asset-page.png")
    console.print(f"wrote {args.out / 'asset-graph.png'} and {args.out / 'asset-page.png'}")


if __name__ == "__main__":
    main()
