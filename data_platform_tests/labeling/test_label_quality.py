"""Label quality functions: classes, balance, kappa, likely errors, stable splits."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score

from data_platform.labeling.quality import (
    class_balance,
    cohen_kappa,
    imbalance_ratio,
    labels_outside,
    likely_label_errors,
)
from data_platform.splits import is_holdout, split_for, stable_unit
from data_platform.synthetic import REVIEW_CLASSES, generate_reviews


def test_labels_outside_names_each_bad_label_with_its_count():
    labels = ["books", "toys", "furniture", "furniture", None]
    assert labels_outside(labels, REVIEW_CLASSES) == {"<none>": 1, "furniture": 2}
    assert labels_outside(["books", "toys"], REVIEW_CLASSES) == {}


def test_class_balance_lists_every_declared_class_then_strays():
    balance = class_balance(["books", "books", "toys", "furniture"], REVIEW_CLASSES)
    assert balance == {
        "books": 2, "electronics": 0, "kitchen": 0, "toys": 1, "sports": 0, "furniture": 1
    }  # fmt: skip
    assert imbalance_ratio({"a": 4, "b": 2}) == 2.0
    assert imbalance_ratio({"a": 4, "b": 0}) == float("inf")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_kappa_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], 200).tolist()
    b = [label if rng.random() < 0.7 else str(rng.choice(["x", "y", "z"])) for label in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_edge_cases():
    assert cohen_kappa(["a", "a"], ["a", "a"]) == 1.0
    assert cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="equally long"):
        cohen_kappa(["a"], [])


def test_split_is_stable_and_close_to_the_fraction():
    ids = [f"r-{i:09d}" for i in range(5000)]
    first = split_for(ids, 0.2)
    assert first == split_for(list(reversed(ids)), 0.2)[::-1]  # order does not matter
    assert first[:100] == split_for(ids[:100], 0.2)  # more rows do not move old ones
    assert 0.18 < first.count("validation") / len(ids) < 0.22
    assert stable_unit("r-000000001") == pytest.approx(0.443514, abs=1e-6)  # fixed forever


def test_likely_label_errors_finds_flipped_labels():
    frame = generate_reviews(400, seed=3)
    labels = frame["category"].to_list()
    flipped = list(range(0, 400, 40))  # 10 labels made wrong on purpose
    for i in flipped:
        labels[i] = next(c for c in REVIEW_CLASSES if c != labels[i])
    ids = frame["review_id"].to_list()
    report = likely_label_errors(ids, frame["text"].to_list(), labels)
    found = {issue.record_id for issue in report.issues}
    assert report.rows_checked == 400
    assert len(found & {ids[i] for i in flipped}) >= 7, report.issues[:12]
    assert all(i.given_label != i.suggested_label for i in report.issues)


def test_likely_label_errors_skips_too_few_labels():
    report = likely_label_errors(["a", "b"], ["x", "y"], ["books", "toys"])
    assert report.issues == []
    assert "needs 20 labeled rows" in report.skipped


def test_inference_holdout_is_the_export_validation_side():
    ids = [f"r-{i:09d}" for i in range(2000)]
    held_out = is_holdout(pl.Series(ids), 0.2).to_list()
    assert held_out == [side == "validation" for side in split_for(ids, 0.2)]
