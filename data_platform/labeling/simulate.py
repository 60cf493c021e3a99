"""A simulated annotator, so the labeled layer materialises end to end with no human.

Its labels go through the labeling server's API like a person's, under a dedicated
server user, and land in the `annotator` column as `simulated:<name>` (for example
`simulated:oracle-v1`), which no person's login can be. The oracle answers with the
dataset's own label column (the truth of the synthetic data), optionally with noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from data_platform.contracts import Contract
from data_platform.labeling.backend import LabelingBackend, simulated_annotator
from data_platform.lakehouse import Lakehouse
from data_platform.splits import stable_unit

ORACLE = "oracle-v1"


@dataclass(frozen=True)
class SimulationResult:
    """What one simulated annotator did."""

    annotator: str
    labeled: int
    flipped: int  # labels deliberately different from the truth (noise)
    skipped_without_truth: int


def staged_truth(lake: Lakehouse, spec: Contract) -> dict[str, str]:
    """Record id -> the label column of `staged.<dataset>` (the oracle's answers)."""
    if spec.label_column is None:
        raise ValueError(f"{spec.name} declares no label column: a simulated oracle has no truth")
    read = lake.read(spec.table("staged"), columns=(spec.id_column, spec.label_column))
    ids = [str(i) for i in read.data.column(spec.id_column).to_pylist()]
    labels = read.data.column(spec.label_column).to_pylist()
    return dict(zip(ids, labels, strict=True))


def simulate_annotations(
    backend: LabelingBackend,
    spec: Contract,
    truth: Mapping[str, str],
    *,
    annotator: str = ORACLE,
    noise: float = 0.0,
    fraction: float = 1.0,
    seed: int = 0,
    limit: int | None = None,
) -> SimulationResult:
    """Label the project's tasks this annotator has not labeled yet, through the server's API.

    Args:
        backend: the labeling server (the project must exist: push tasks first).
        spec: the dataset.
        truth: record id -> correct label, e.g. `staged_truth(lake, spec)`.
        annotator: name; stored as `simulated:<name>` in the `annotator` column.
        noise: share of labels replaced by another declared class (a careless annotator).
        fraction: share of tasks this annotator labels (chosen by a hash of the record id;
            a second annotator on a fraction gives inter-annotator agreement to measure).
        seed: makes the noise and the fraction reproducible.
        limit: label at most this many tasks.
    """
    name = simulated_annotator(annotator)
    done = {a.record_id for a in backend.annotations(spec) if a.annotator == name}
    queued = backend.queued(spec)
    todo = sorted(r for r in queued if r not in done and r in truth)
    todo = [r for r in todo if stable_unit(f"{seed}:{name}:{r}") < fraction][:limit]
    rng = np.random.default_rng(seed)
    labels, flipped = {}, 0
    for record_id in todo:
        label = truth[record_id]
        if noise and rng.random() < noise:
            others = [c for c in spec.classes if c != label]
            label, flipped = others[int(rng.integers(len(others)))], flipped + 1
        labels[queued[record_id]] = label
    backend.annotate_many(spec, labels, annotator=name)
    skipped = sum(1 for r in queued if r not in done and r not in truth)
    return SimulationResult(name, len(labels), flipped, skipped)
