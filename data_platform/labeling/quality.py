"""Label quality: declared classes, class balance, agreement, likely label errors.

Pure functions over plain sequences, so the Dagster checks, the CLI and the tests share
them. Likely label errors come from confident learning (cleanlab) on out-of-fold class
probabilities of a small text model (TF-IDF + logistic regression, scikit-learn).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MIN_ROWS_FOR_ERRORS = 20  # below this a cross-validated model says nothing useful
MIN_PER_CLASS = 2


def labels_outside(labels: Sequence[str | None], classes: Sequence[str]) -> dict[str, int]:
    """Labels that are not declared classes (a missing label counts as `<none>`), with counts."""
    declared = set(classes)
    counts = Counter("<none>" if label is None else label for label in labels)
    return {label: n for label, n in sorted(counts.items()) if label not in declared}


def class_balance(labels: Sequence[str | None], classes: Sequence[str]) -> dict[str, int]:
    """Count per declared class (zeros included), then any undeclared labels."""
    counts = Counter(label for label in labels if label is not None)
    balance = {c: counts.pop(c, 0) for c in classes}
    balance.update(sorted(counts.items()))
    return balance


def imbalance_ratio(balance: dict[str, int]) -> float:
    """Largest class count over smallest (inf when a class has none, 1.0 when empty)."""
    counts = list(balance.values())
    if not counts or max(counts) == 0:
        return 1.0
    return float("inf") if min(counts) == 0 else max(counts) / min(counts)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two raters over the same items: 1 perfect, 0 chance, <0 worse.

    Raises:
        ValueError: if the sequences differ in length or are empty.
    """
    if len(first) != len(second) or not first:
        raise ValueError("kappa needs two equally long, non-empty sequences of labels")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    if expected == 1.0:  # both raters used one and the same class throughout
        return 1.0
    return (observed - expected) / (1.0 - expected)


# -- likely label errors ----------------------------------------------------------------------
@dataclass(frozen=True)
class LabelIssue:
    """A row whose given label the cross-validated model disagrees with."""

    record_id: str
    given_label: str
    suggested_label: str
    given_label_probability: float


@dataclass(frozen=True)
class LabelErrorReport:
    """Rows flagged as likely label errors, and how (or why not) they were searched."""

    issues: list[LabelIssue] = field(default_factory=list)
    rows_checked: int = 0
    method: str = ""
    skipped: str | None = None


def out_of_fold_probabilities(
    texts: Sequence[str], labels: np.ndarray, n_classes: int, folds: int, seed: int
) -> np.ndarray:
    """Class probabilities for each text from a model that never saw it (k-fold)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        LogisticRegression(max_iter=1000),
    )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    probs: np.ndarray = cross_val_predict(
        model, list(texts), labels, cv=splitter, method="predict_proba"
    )
    if probs.shape[1] < n_classes:  # a class absent from every training fold
        full = np.zeros((len(labels), n_classes))
        full[:, np.unique(labels)] = probs
        probs = full
    return probs


def likely_label_errors(
    ids: Sequence[str],
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
) -> LabelErrorReport:
    """Rows whose label disagrees with a cross-validated model, most suspicious first.

    Only labels seen at least `MIN_PER_CLASS` times take part (a class with one example
    cannot be cross-validated). Uses cleanlab's `find_label_issues` when it is installed,
    else flags rows whose given label is below that class's average self-confidence while
    the model prefers another class (the core rule of confident learning).
    """
    counts = Counter(labels)
    keep = [i for i, label in enumerate(labels) if counts[label] >= MIN_PER_CLASS]
    classes = sorted({labels[i] for i in keep})
    if len(keep) < MIN_ROWS_FOR_ERRORS or len(classes) < 2:
        return LabelErrorReport(
            rows_checked=len(keep),
            skipped=f"needs {MIN_ROWS_FOR_ERRORS} labeled rows in at least 2 classes "
            f"(has {len(keep)} in {len(classes)})",
        )
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[labels[i]] for i in keep])
    folds = max(2, min(folds, min(counts[c] for c in classes)))
    probs = out_of_fold_probabilities([texts[i] for i in keep], y, len(classes), folds, seed)
    flagged, method = _flag(y, probs)
    issues = [
        LabelIssue(
            record_id=ids[keep[r]],
            given_label=classes[y[r]],
            suggested_label=classes[int(np.argmax(probs[r]))],
            given_label_probability=round(float(probs[r, y[r]]), 4),
        )
        for r in flagged
    ]
    return LabelErrorReport(issues=issues, rows_checked=len(keep), method=method)


def _flag(y: np.ndarray, probs: np.ndarray) -> tuple[list[int], str]:
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        thresholds = np.array([probs[y == k, k].mean() for k in range(probs.shape[1])])
        self_conf = probs[np.arange(len(y)), y]
        mask = (self_conf < thresholds[y]) & (np.argmax(probs, axis=1) != y)
        order = np.argsort(self_conf[mask])
        method = "confident learning (scikit-learn only), TF-IDF + logistic regression"
        return [int(i) for i in np.flatnonzero(mask)[order]], method
    ranked = find_label_issues(
        y, probs, return_indices_ranked_by="self_confidence", n_jobs=1, filter_by="both"
    )
    return [int(i) for i in ranked], "cleanlab find_label_issues, TF-IDF + logistic regression"
