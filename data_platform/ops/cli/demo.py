"""`data-platform demo`: stack up, sample data uploaded, every asset materialised."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from data_platform.contracts import Contract
    from data_platform.ops.runner import RunOutcome

console = Console(width=160)

# built after the uploads are ingested and each dataset's own layers, in order
BENCHMARKS: list[tuple[list[str], str | None]] = [
    *(
        (["benchmarks", "formats"], case)
        for case in ("parquet-zstd|polars|100k|local", "csv|polars|100k|local")
    ),
    (["benchmarks", "formats_summary"], None),
    *(
        (["benchmarks", "inference"], case)
        for case in ("cpu|vectorised|1w|10k", "cpu|single|1w|10k", "cpu|thread|2w|10k")
    ),
    (["benchmarks", "inference_summary"], None),
    (["maintenance", "lake_health"], None),
]


class Phases:
    """Wall time per phase of the demo, printed as one line at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = now - self._last
        self._last = now

    def __str__(self) -> str:
        return " · ".join(f"{name} {seconds:.0f}s" for name, seconds in self.seconds.items())


def demo(
    upload: bool = typer.Option(True, help="Upload the sample files to the landing prefix."),
    labels: bool = typer.Option(
        True, help="Run the labeling round-trip (local Label Studio, simulated annotator)."
    ),
) -> None:
    """Run the main job on the embedded default: stack up, samples uploaded, assets built.

    Uses the same sensors and jobs as `dagster dev`: the landing sensor is evaluated once
    per dataset and every run it requests is executed in this process. Runs are recorded
    in the project's Dagster home, so `make dev` shows them afterwards.
    """
    import dagster as dg

    from data_platform.contracts import ContractError, load_contracts
    from data_platform.definitions import build_definitions
    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.ops.cli.stack import ensure_stack
    from data_platform.ops.demo.labeling import (
        annotate_datasets,
        queue_datasets,
        start_label_studio,
        sync_datasets,
    )
    from data_platform.ops.demo.samples import SAMPLES, upload_samples
    from data_platform.ops.demo.summary import render, summarise_assets
    from data_platform.ops.runner import (
        DemoReport,
        ingest_landing,
        materialize,
        prepare_dagster_home,
    )
    from data_platform.settings import Settings
    from data_platform.storage import ObjectStore

    started = time.monotonic()
    phases = Phases()
    settings = Settings()
    try:  # before anything starts: the demo runs every dataset's layers
        contracts = load_contracts(settings.datasets_dir)
    except ContractError as exc:
        errors = Console(stderr=True)
        errors.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"[bold]store[/]   {ensure_stack(settings)}")
    store = ObjectStore.from_settings(settings)
    store.ensure_bucket()
    phases.done("stack")
    if upload:
        uploaded = upload_samples(store, settings.landing_prefix, SAMPLES)
        per_dataset = Counter(sample.dataset for sample in SAMPLES)
        console.print(
            f"[bold]upload[/]  {len(uploaded)} sample files "
            f"({sum(info.size for info in uploaded):,} B) to "
            f"s3://{settings.bucket}/{settings.landing_prefix}: "
            + ", ".join(f"{dataset} {n}" for dataset, n in per_dataset.items())
        )
        phases.done("upload")
    # Label Studio takes tens of seconds to start: it starts now, beside the runs
    labeling = ThreadPoolExecutor(1, thread_name_prefix="label-studio")
    label_studio = labeling.submit(start_label_studio, settings) if labels else None
    home = prepare_dagster_home(settings)
    instance = dg.DagsterInstance.from_config(str(home))
    defs = build_definitions(contracts=contracts)
    report = DemoReport()

    def show(outcome: RunOutcome) -> None:
        status = "[green]ok[/]" if outcome.success else f"[red]failed[/]: {outcome.error}"
        where = f" [{outcome.partition}]" if outcome.partition else ""
        console.print(
            f"[bold]run[/]     {outcome.dataset}{where} {status} ({outcome.seconds:.1f}s)"
        )

    phases.done("definitions")
    report.runs = ingest_landing(defs, instance, contracts, on_run=show)
    phases.done("ingest")
    with_text = {c.name: c for c in contracts if c.has_text}
    for ingested in [r for r in report.runs if r.success and r.dataset in with_text]:
        key = with_text[ingested.dataset].asset_key("embedded")  # embedded follows staged
        outcome = materialize(
            defs, instance, [key], label=key.to_user_string(), partition_key=ingested.partition
        )
        report.runs.append(outcome)
        show(outcome)
    phases.done("embed")
    lake = Lakehouse(open_catalog(settings))
    annotating: Future[None] | None = None
    queued: list[Contract] = []
    if label_studio is not None:
        console.print(f"[bold]labels[/]  {label_studio.result()}")
        queued_runs, queued = queue_datasets(defs, instance, contracts, on_run=show)
        report.runs += queued_runs
        # the simulated annotator's API calls (Label Studio's CPU, mostly) go on beside the
        # runs below; the labels are synced into the lake once both are done
        annotating = labeling.submit(annotate_datasets, settings, lake, queued)
        phases.done("label queue")
    downstream = (
        [(["embedded", "saved_searches"], None)] if any(c.searches for c in contracts) else []
    )
    downstream += [(["inference", c.name], None) for c in contracts if c.has_target]
    for path, partition in [*downstream, *BENCHMARKS]:
        key = dg.AssetKey(path)
        outcome = materialize(
            defs, instance, [key], label=key.to_user_string(), partition_key=partition
        )
        report.runs.append(outcome)
        show(outcome)
    phases.done("downstream")
    labeling.shutdown(wait=True)
    if annotating is not None:
        annotating.result()
        phases.done("annotating (rest)")
        report.runs += sync_datasets(defs, instance, queued, on_run=show)
        phases.done("labels synced")
    console.print(render(summarise_assets(lake, instance, defs, report)))
    phases.done("summary")
    failed = [r for r in report.runs if not r.success]
    console.print(f"[bold]time[/]    {phases}")
    console.print(
        f"{len(report.runs)} run(s), {len(failed)} failed, in {time.monotonic() - started:.0f}s. "
        f"Dagster home: {home}."
    )
    console.print(
        "next:    [bold]make dev[/] opens the UI at http://127.0.0.1:3000 on this stack\n"
        '         .venv/bin/data-platform search "kettle stopped working" --dataset reviews\n'
        '         .venv/bin/data-platform sql "select category, count(*) from staged.reviews '
        'group by 1"\n'
        "         .venv/bin/data-platform datasets init NAME --from your.csv  (your own data)\n"
        "         .venv/bin/data-platform quarantine list  (refused uploads, and why)\n"
        "         .venv/bin/data-platform drift reviews  (the latest upload against the "
        "earlier ones; exit 1 on drift)"
    )
    if failed:
        raise typer.Exit(1)
