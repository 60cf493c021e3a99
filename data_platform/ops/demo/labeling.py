"""The demo's labeling round-trip, with a simulated annotator instead of a person.

Label Studio runs locally (its own venv); tasks are queued by the `labeling/queue` asset,
labeled through the tool's API by `simulated:oracle-v1` (the `annotator` column says so),
and synced into `labeled/<dataset>` by the same job the annotations sensor runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dagster as dg

from data_platform.contracts import Contract
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.simulate import simulate_annotations, staged_truth
from data_platform.lakehouse import Lakehouse
from data_platform.ops.runner import RunOutcome, materialize
from data_platform.ops.stack.label_studio import LocalLabelStudio
from data_platform.settings import Settings


def start_label_studio(settings: Settings) -> str:
    """The local Label Studio (started unless DP_LABELING_URL points at a server)."""
    if settings.labeling.url:
        return f"external labeling server {settings.labeling.url}"
    state = LocalLabelStudio(settings.label_studio_dir).up()
    return f"local Label Studio at {state.url} (pid {state.pid})"


def queue_datasets(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    specs: Sequence[Contract],
    on_run: Callable[[RunOutcome], None],
) -> tuple[list[RunOutcome], list[Contract]]:
    """Run `labeling/queue/<dataset>` of every dataset that has a label column.

    Returns the runs and the datasets whose tasks were queued.
    """
    outcomes, queued = [], []
    for spec in (s for s in specs if s.has_labels):
        outcome = materialize(
            defs,
            instance,
            [spec.asset_key("labeling", "queue")],
            label=f"queue {spec.name}",
        )
        on_run(outcome)
        outcomes.append(outcome)
        if outcome.success:
            queued.append(spec)
    return outcomes, queued


def annotate_datasets(settings: Settings, lake: Lakehouse, specs: Sequence[Contract]) -> None:
    """The simulated annotator labels every queued task, through the server's API only
    (no Dagster run: the demo does this beside its other runs)."""
    backend = LabelingResource(home=str(settings.home)).get_backend()
    for spec in specs:
        simulate_annotations(backend, spec, staged_truth(lake, spec))


def sync_datasets(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    specs: Sequence[Contract],
    on_run: Callable[[RunOutcome], None],
) -> list[RunOutcome]:
    """Run `labeled/<dataset>`: the annotations synced into the lake."""
    outcomes = []
    for spec in specs:
        outcome = materialize(
            defs, instance, [spec.asset_key("labeled")], label=f"labeled/{spec.name}"
        )
        on_run(outcome)
        outcomes.append(outcome)
    return outcomes
