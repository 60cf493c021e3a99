"""A user's journeys through the Dagster UI, in headless Chromium, on a real `dagster dev`.

One `dagster dev` serves the whole module. The uploads are made once, first, so that the
daemon's runs go on while the browser checks other pages: a good and a bad review upload
(ingested by the landing sensor), and ticket uploads whose partitions are added through
GraphQL with the tickets sensor stopped, so that the UI materialises and backfills them.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from data_platform.ops.demo.samples import encode
from data_platform.ops.stack.dagster_dev import DagsterDev
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_bytes, put_upload, sample_rows
from data_platform_tests.fixtures.dagster_dev import SENSOR_INTERVAL_S
from data_platform_tests.ui import pages, state

pytestmark = [pytest.mark.ui, pytest.mark.integration, pytest.mark.slow]

RUN_TIMEOUT_S = 300.0  # a run is a few subprocesses that import the platform: slow on 2 cores
SENSOR_SLACK_S = 2 * SENSOR_INTERVAL_S + 25  # first tick after start-up, tick duration, load
RAW_REVIEWS, STAGED_REVIEWS = ("raw", "reviews"), ("staged", "reviews")
TRANSFORMED_REVIEWS, RAW_TICKETS = ("transformed", "reviews"), ("raw", "tickets")
INFERENCE_REVIEWS = ("inference", "reviews")  # the unpartitioned asset a user materialises
# the case of a benchmark a user runs, where it has it: a 100k-row Arrow IPC file on local
# disk takes ~1.5 s where the first case (a pandas CSV) takes ~6.5 s; the pages show the
# same plots and charts whichever case ran
QUICK_CASES = {"ipc|polars|100k|local"}


@dataclass(frozen=True)
class Uploads:
    good: str  # partition keys: object keys under landing/<dataset>/
    bad: str
    tickets: tuple[str, ...]
    uploaded_at: float


def bad_reviews_csv() -> bytes:
    """20 reviews whose data row 4 has the price 'cheap'."""
    frame = sample_rows("reviews", 20, seed=9, start_id=1000)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("cheap"))
        .otherwise(pl.col("price").cast(pl.String))
        .alias("price")
    )
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def uploads(dagster_dev: DagsterDev) -> Uploads:
    settings = dagster_dev.settings
    store = ObjectStore.from_settings(settings)
    state.stop_sensor(dagster_dev, "tickets_landing_sensor")  # the UI launches tickets here
    uploaded_at = time.time()
    reviews = sample_rows("reviews", 40, seed=3, start_id=500)
    put_upload(store, settings, "reviews", "ui/good.csv", reviews)
    put_bytes(store, settings, "reviews", "ui/bad.csv", bad_reviews_csv())
    tickets = tuple(f"ui/t{i}.csv" for i in (1, 2, 3))
    for i, key in enumerate(tickets):
        frame = sample_rows("tickets", 20, seed=10 + i, start_id=100 * i)
        # in the archive, where no sensor looks (a tick that began before the stop could
        # still ingest them from landing); a run reads an upload from the archive as well
        store.put_bytes(f"{settings.archive_prefix}tickets/{key}", encode(frame, key))
        state.add_partition(dagster_dev, "tickets_uploads", key)
    return Uploads("ui/good.csv", "ui/bad.csv", tickets, uploaded_at)


@pytest.fixture(scope="module")
def ingested(dagster_dev: DagsterDev, uploads: Uploads) -> Uploads:
    """The good review upload, through to `transformed/reviews`, by the sensor's run."""

    def done() -> bool | None:
        status = state.partition_status(dagster_dev, TRANSFORMED_REVIEWS)
        assert uploads.good not in status["failed"], "the good upload's run failed"
        return True if uploads.good in status["materialized"] else None

    state.poll(done, timeout=RUN_TIMEOUT_S, what="the good upload ingested", interval=0.5)
    return uploads


def test_every_dependency_is_a_defined_asset(dagster_dev):
    """A dependency nothing builds shows in the UI as a stub that can never be materialised."""
    nodes = [n for n in state.asset_nodes(dagster_dev) if n.materializable]
    defined = {n.path for n in nodes}
    dangling = [
        f"{'/'.join(n.path)} <- {'/'.join(dep)}"
        for n in nodes
        for dep in n.deps
        if dep not in defined
    ]
    assert not dangling, f"assets depend on assets that no definition builds: {dangling}"


def test_asset_graph_shows_every_group_and_lineage(page: Page, dagster_dev, uploads, tmp_path):
    nodes = [n for n in state.asset_nodes(dagster_dev) if n.materializable]
    groups = sorted({n.group for n in nodes})
    expected_edges = state.group_edges(nodes)
    assert {"raw", "staged", "transformed"} <= set(groups)

    drawn_groups, drawn_edges = pages.global_lineage(page, len(groups), len(expected_edges))
    assert sorted(drawn_groups) == groups
    assert drawn_edges == expected_edges
    shot = tmp_path / "asset-graph.png"
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000

    for group in groups:
        members = sorted(n.path[-1] for n in nodes if n.group == group)
        assert pages.group_asset_names(page, group, len(members)) == members, group


def test_upload_becomes_a_partition_materialised_by_the_sensor(page: Page, dagster_dev, ingested):
    # the good and the bad upload landed together: one batch run (or one run each)
    [run] = state.runs_of_upload(dagster_dev, "reviews", ingested.good)
    waited = run["creationTime"] - ingested.uploaded_at
    assert waited < SENSOR_SLACK_S, f"sensor run created {waited:.0f}s after the upload"

    for path in (RAW_REVIEWS, STAGED_REVIEWS, TRANSFORMED_REVIEWS):
        pages.open_partition(page, "/assets/" + "/".join(path), ingested.good)
        expect(page.get_by_text("Materialized", exact=True)).to_be_visible()
        expect(page.get_by_text(run["runId"][:8]).first).to_be_visible()


def test_bad_upload_fails_its_check_and_blocks_downstream(page: Page, dagster_dev, uploads):
    def bad_run() -> dict | None:
        runs = state.runs_of_upload(dagster_dev, "reviews", uploads.bad)
        return runs[0] if runs and runs[0]["status"] in state.TERMINAL else None

    run = state.poll(bad_run, timeout=RUN_TIMEOUT_S, what="the bad upload's run finished")
    assert run["status"] == "FAILURE"
    verdicts = {
        e["evaluation"]["partition"]: e["evaluation"]["success"]
        for e in state.check_executions(dagster_dev, STAGED_REVIEWS, "schema_valid")
        if e["runId"] == run["runId"]
    }
    assert verdicts[uploads.bad] is False  # each upload of the run has its own verdict
    status = state.partition_status(dagster_dev, TRANSFORMED_REVIEWS)
    assert uploads.bad not in status["materialized"]

    page.goto("/assets/staged/reviews?view=checks")
    # staged has two checks (drift, schema_valid): the blocking one is schema_valid
    page.get_by_text("schema_valid", exact=True).first.click()
    expect(page.get_by_text("This is a blocking asset check.")).to_be_visible()
    page.get_by_text("Execution history", exact=True).click()
    row = page.locator("tr", has_text=f"landing/reviews/{uploads.bad}")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("row 4, column 'price'")
    expect(row).to_contain_text("'cheap'")

    # raw records the refused upload (its partition materialised by the same run); staged
    # and transformed never had it
    assert uploads.bad in state.partition_status(dagster_dev, RAW_REVIEWS)["materialized"]
    assert uploads.bad not in state.partition_status(dagster_dev, STAGED_REVIEWS)["materialized"]


def test_materialize_an_unpartitioned_asset(page: Page, dagster_dev, ingested):
    nodes = {n.path: n for n in state.asset_nodes(dagster_dev)}
    asset = nodes.get(INFERENCE_REVIEWS)
    assert asset is not None, f"{'/'.join(INFERENCE_REVIEWS)} is not defined: nothing to launch"
    assert asset.materializable, asset
    assert not asset.partitioned, asset

    pages.click_materialize(page, asset.url)
    run_id = pages.launched_run_id(page)
    state.assert_run_succeeded(dagster_dev, run_id, timeout=RUN_TIMEOUT_S)
    latest_run, metadata = state.latest_metadata(dagster_dev, asset.path)
    assert latest_run == run_id

    page.goto(asset.url)
    if "dagster/row_count" in metadata:
        expect(page.get_by_text(f"{metadata['dagster/row_count']:,}").first).to_be_visible()
    for label in ("snapshot_id", "table_location"):
        assert label in metadata, f"{asset.url} has no {label} metadata"
        expect(pages.metadata_value(page, label)).to_contain_text(str(metadata[label]))
    assert pages.markdown_table_headers(page, "preview"), "the preview has no columns"

    numeric = [k for k, v in metadata.items() if isinstance(v, int | float)]
    assert numeric, "no numeric metadata to plot"
    page.keyboard.press("Escape")  # a "Show Markdown" dialog may still be open
    pages.show_plots(page, numeric, partitioned=False)


def test_materialize_one_partition_from_the_dialog(page: Page, dagster_dev, uploads):
    key = uploads.tickets[0]
    dialog = pages.partition_dialog(page, "/assets/raw/tickets")
    pages.select_partitions(page, dialog, [key])
    pages.launch(dialog)
    run_id = pages.launched_run_id(page)
    state.assert_run_succeeded(dagster_dev, run_id, timeout=RUN_TIMEOUT_S)
    assert key in state.partition_status(dagster_dev, RAW_TICKETS)["materialized"]

    pages.open_partition(page, "/assets/raw/tickets", key)
    expect(page.get_by_text("Materialized", exact=True)).to_be_visible()
    expect(page.get_by_text(run_id[:8]).first).to_be_visible()


def test_backfill_every_missing_partition(page: Page, dagster_dev, uploads):
    missing = state.partition_status(dagster_dev, RAW_TICKETS)["unmaterialized"]
    assert len(missing) >= 2, f"expected several missing partitions, got {missing}"

    dialog = pages.partition_dialog(page, "/assets/raw/tickets")
    dialog.get_by_role("button", name="Missing", exact=True).click()
    expect(dialog.get_by_text(f"{len(missing)} partitions", exact=True)).to_be_visible()
    pages.launch(dialog)
    backfill_id = pages.launched_backfill_id(page)
    backfill = state.wait_for_backfill(dagster_dev, backfill_id, timeout=2 * RUN_TIMEOUT_S)
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert set(backfill["partitionNames"]) == missing
    status = state.partition_status(dagster_dev, RAW_TICKETS)
    assert missing <= status["materialized"]
    assert not status["unmaterialized"]

    page.goto("/assets/raw/tickets?view=partitions")
    expect(page.get_by_text("Missing (0)", exact=True)).to_be_visible()
    count = len(status["materialized"])
    expect(page.get_by_text(f"Materialized ({count})", exact=True)).to_be_visible()


def test_benchmark_pages_show_their_plots(page: Page, dagster_dev, ingested):
    """One case of each benchmark, then the summaries: plots and charts on their pages."""
    benchmarks = [n for n in state.asset_nodes(dagster_dev) if n.path[0] == "benchmarks"]
    cases = [n for n in benchmarks if n.partitioned]
    summaries = [n for n in benchmarks if not n.partitioned]
    assert cases, f"no partitioned benchmarks/<case> asset is defined: {benchmarks}"
    assert summaries, f"no benchmarks/<summary> asset is defined: {benchmarks}"
    runs = []
    for asset in cases:  # launched together: the daemon runs two at a time
        keys = state.partition_keys(dagster_dev, asset.path)
        case = next((key for key in keys if key in QUICK_CASES), keys[0])
        dialog = pages.partition_dialog(page, asset.url)
        pages.select_partitions(page, dialog, [case])
        pages.launch(dialog)
        runs.append(pages.launched_run_id(page))
    for run_id in runs:
        state.assert_run_succeeded(dagster_dev, run_id, timeout=2 * RUN_TIMEOUT_S)
    runs = []
    for asset in summaries:
        pages.click_materialize(page, asset.url)
        runs.append(pages.launched_run_id(page))
    for run_id in runs:
        state.assert_run_succeeded(dagster_dev, run_id, timeout=2 * RUN_TIMEOUT_S)

    for asset in benchmarks:
        _, metadata = state.latest_metadata(dagster_dev, asset.path)
        images = [k for k, v in metadata.items() if isinstance(v, str) and "](data:image/" in v]
        numeric = [k for k, v in metadata.items() if isinstance(v, int | float)]
        assert images or numeric, f"{asset.url} has nothing to plot"
        page.goto(asset.url)
        for label in images:  # matplotlib PNGs in markdown metadata
            shown = pages.open_markdown(page, label).locator("img").first
            expect(shown).to_be_visible()
            assert shown.evaluate("img => img.complete && img.naturalWidth > 0"), label
            page.keyboard.press("Escape")
        if numeric:  # Dagster's own charts of numeric metadata over materialisations
            pages.show_plots(page, numeric, asset.partitioned)
