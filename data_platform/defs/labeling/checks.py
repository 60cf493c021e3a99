"""Label quality checks of `labeled/<dataset>`, computed from the rows just synced.

A check that cannot measure its property yet (no record labeled twice, too few labels)
does not pass: it fails at WARN severity with a `skipped_reason` (see `not_measured`), so
the UI never shows a green check for something nothing looked at.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from data_platform.check_outcome import CheckOutcome, Markdown
from data_platform.contracts import Contract
from data_platform.defs.checks import check_result
from data_platform.labeling.quality import (
    class_balance,
    cohen_kappa,
    imbalance_ratio,
    labels_outside,
    likely_label_errors,
)

KAPPA_WARN_BELOW = 0.6  # below "substantial agreement" (Landis & Koch)
MAX_IMBALANCE = 10.0  # largest class over smallest
MIN_LABELS_FOR_BALANCE = 5  # per declared class, before balance is judged
ISSUES_SHOWN = 25


def labeled_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "labels_in_classes",
            asset=key,
            blocking=True,
            description="Every label is one of the dataset's declared classes.",
        ),
        dg.AssetCheckSpec("class_balance", asset=key, description="Labels per declared class."),
        dg.AssetCheckSpec(
            "annotator_agreement",
            asset=key,
            description="Cohen's kappa on records labeled by two annotators.",
        ),
        dg.AssetCheckSpec(
            "likely_label_errors",
            asset=key,
            description="Labels a cross-validated text model disagrees with (confident learning).",
        ),
    ]


def labeled_check_results(
    key: dg.AssetKey, frame: pl.DataFrame, spec: Contract
) -> list[dg.AssetCheckResult]:
    outcomes = {
        "labels_in_classes": labels_in_classes(frame, spec),
        "class_balance": balance(frame, spec),
        "annotator_agreement": agreement(frame),
        "likely_label_errors": label_errors(frame, spec),
    }
    return [check_result(name, outcome, key) for name, outcome in outcomes.items()]


def not_measured(reason: str, metadata: dict[str, Any] | None = None) -> CheckOutcome:
    """The outcome of a check that could not measure its property, and why.

    Dagster has no "skipped" state for an evaluated check, and a pass reads as "measured
    and fine": a failure at WARN severity reads as "look here" without blocking anything.
    """
    return CheckOutcome(
        False,
        f"not measured: {reason}",
        {"skipped_reason": reason, **(metadata or {})},
        severity="warn",
    )


def labels_in_classes(frame: pl.DataFrame, spec: Contract) -> CheckOutcome:
    outside = labels_outside(frame["label"].to_list(), spec.classes)
    bad = frame.filter(~pl.col("label").is_in(list(spec.classes)) | pl.col("label").is_null())
    ids = bad[spec.id_column].head(20).to_list()
    description = (
        f"all {frame.height} labels are declared classes of {spec.name}"
        if not outside
        else f"{bad.height} of {frame.height} labels are not declared classes of {spec.name}: "
        + ", ".join(f"{label!r} x{n}" for label, n in outside.items())
        + f" (declared: {', '.join(spec.classes)}); records: {', '.join(ids)}"
    )
    return CheckOutcome(
        not outside,
        description,
        {"labels_outside": outside, "records": ids, "declared_classes": list(spec.classes)},
    )


def balance(frame: pl.DataFrame, spec: Contract) -> CheckOutcome:
    counts = class_balance(frame["label"].to_list(), spec.classes)
    declared = {c: counts[c] for c in spec.classes}
    ratio = imbalance_ratio(declared)
    judged = frame.height >= MIN_LABELS_FOR_BALANCE * len(spec.classes)
    total = max(frame.height, 1)
    table = ["| class | labels | share |", "|---|---|---|"] + [
        f"| {c} | {n} | {n / total:.1%} {'█' * round(20 * n / total)} |" for c, n in counts.items()
    ]
    metadata = {
        "counts": counts,
        "imbalance_ratio": float(ratio if ratio != float("inf") else -1.0),
        "balance": Markdown("\n".join(table)),
    }
    if not judged:
        return not_measured(
            f"{frame.height} labels; balance is judged from {MIN_LABELS_FOR_BALANCE} per "
            f"declared class ({MIN_LABELS_FOR_BALANCE * len(spec.classes)} labels)",
            metadata,
        )
    return CheckOutcome(
        ratio <= MAX_IMBALANCE,
        f"largest/smallest class = {ratio:.1f} over {frame.height} labels; "
        f"warns above {MAX_IMBALANCE:g}",
        metadata,
        severity="warn",
    )


def agreement(frame: pl.DataFrame) -> CheckOutcome:
    pairs = frame.filter(pl.col("second_label").is_not_null())
    if pairs.is_empty():
        return not_measured("no record has two annotators yet", {"double_annotated": 0})
    # order each pair by annotator name, so one rater's labels stay on one side
    rows = pairs.select("label", "second_label", "annotator", "second_annotator").iter_rows()
    ordered = [(la, lb) if ra <= rb else (lb, la) for la, lb, ra, rb in rows]
    kappa = cohen_kappa([a for a, _ in ordered], [b for _, b in ordered])
    raters = sorted(set(pairs["annotator"].to_list()) | set(pairs["second_annotator"].to_list()))
    agree = int((pairs["label"] == pairs["second_label"]).sum())
    return CheckOutcome(
        kappa >= KAPPA_WARN_BELOW,
        f"Cohen's kappa {kappa:.3f} on {pairs.height} records labeled twice "
        f"({agree} agree); warns below {KAPPA_WARN_BELOW}",
        {
            "cohen_kappa": float(round(kappa, 4)),
            "double_annotated": pairs.height,
            "raw_agreement": float(round(agree / pairs.height, 4)),
            "annotators": raters,
        },
        severity="warn",
    )


def label_errors(frame: pl.DataFrame, spec: Contract) -> CheckOutcome:
    valid = frame.filter(pl.col("label").is_in(list(spec.classes)))
    report = likely_label_errors(
        valid[spec.id_column].to_list(), valid["text"].to_list(), valid["label"].to_list()
    )
    if report.skipped:
        return not_measured(
            f"likely label errors not searched: {report.skipped}",
            {"rows_checked": report.rows_checked},
        )
    lines = ["| record | label | model suggests | p(label) |", "|---|---|---|---|"] + [
        f"| {i.record_id} | {i.given_label} | {i.suggested_label} | {i.given_label_probability} |"
        for i in report.issues[:ISSUES_SHOWN]
    ]
    return CheckOutcome(
        not report.issues,
        f"{len(report.issues)} likely label errors among {report.rows_checked} labels "
        f"(a cross-validated model disagrees): review them in the labeling tool",
        {
            "issue_count": len(report.issues),
            "rows_checked": report.rows_checked,
            "method": report.method,
            "issues": Markdown("\n".join(lines)),
            "records": [i.record_id for i in report.issues],
        },
        severity="warn",
    )
