"""The label checks of `labeled/<dataset>`: a check that measured nothing never passes."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from data_platform.defs.labeling.checks import labeled_check_results
from data_platform_tests.defs.helpers import sample_contract, sample_rows

KEY = dg.AssetKey(["labeled", "reviews"])
NOT_MEASURED = ("class_balance", "annotator_agreement", "likely_label_errors")


def _labeled(rows: int, twice: int = 0) -> pl.DataFrame:
    """`rows` labeled reviews, the first `twice` of them labeled by a second annotator too."""
    frame = sample_rows("reviews", rows, seed=5)
    second = pl.int_range(pl.len()) < twice
    return frame.select(
        "review_id",
        "text",
        pl.col("category").alias("label"),
        pl.lit("ann-a").alias("annotator"),
        pl.when(second).then(pl.col("category")).alias("second_label"),
        pl.when(second).then(pl.lit("ann-b")).alias("second_annotator"),
    )


def _checks(frame: pl.DataFrame) -> dict[str, dg.AssetCheckResult]:
    results = labeled_check_results(KEY, frame, sample_contract("reviews"))
    return {r.check_name: r for r in results if r.check_name is not None}


@pytest.mark.parametrize("name", NOT_MEASURED)
def test_a_check_with_too_little_to_measure_fails_at_warn_and_says_why(name):
    result = _checks(_labeled(8))[name]  # 8 labels, none twice: below every threshold
    assert not result.passed, f"{name} passed though it measured nothing"
    assert result.severity == dg.AssetCheckSeverity.WARN
    reason = result.metadata["skipped_reason"]
    assert isinstance(reason, dg.TextMetadataValue)
    assert reason.value
    assert result.description == f"not measured: {reason.value}"


def test_the_reasons_name_what_is_missing():
    checks = _checks(_labeled(8))
    reasons = {name: checks[name].metadata["skipped_reason"].value for name in NOT_MEASURED}
    assert reasons["annotator_agreement"] == "no record has two annotators yet"
    assert "8 labels" in reasons["class_balance"]
    assert "(25 labels)" in reasons["class_balance"]  # 5 per class x 5 declared classes
    assert "needs 20 labeled rows" in reasons["likely_label_errors"]


def test_checks_with_enough_labels_measure_and_say_so():
    checks = _checks(_labeled(120, twice=30))
    for name in NOT_MEASURED:
        assert "skipped_reason" not in checks[name].metadata, name
        assert not (checks[name].description or "").startswith("not measured"), name
    assert checks["labels_in_classes"].passed
    assert checks["class_balance"].passed  # generated classes are near uniform
    agreement = checks["annotator_agreement"]
    assert agreement.passed  # the second annotator agrees on every record
    assert agreement.metadata["double_annotated"].value == 30
    assert agreement.metadata["cohen_kappa"].value == 1.0
    errors = checks["likely_label_errors"].metadata
    assert errors["rows_checked"].value == 120
    assert errors["method"].value


def test_a_skewed_balance_is_measured_and_fails():
    others = ["electronics", "kitchen", "toys", "sports"]
    labels = ["books"] * 52 + others * 2  # 52 books, 2 of each other class
    balance = _checks(_labeled(60).with_columns(pl.Series("label", labels)))["class_balance"]
    assert not balance.passed
    assert "skipped_reason" not in balance.metadata
    assert balance.metadata["imbalance_ratio"].value == 26.0
    assert balance.metadata["counts"].value == {"books": 52, **dict.fromkeys(others, 2)}
