"""Which records are queued, and how annotations become rows of `labeled` (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.labeling.backend import AnnotationRecord, annotator_from_login
from data_platform.labeling.queue import select_for_labeling
from data_platform.labeling.rows import changes_since, labeled_frame
from data_platform_tests.defs.helpers import sample_contract, sample_rows

REVIEWS = sample_contract("reviews")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _staged(rows: int = 500) -> pl.DataFrame:
    return sample_rows("reviews", rows, seed=7).with_columns(
        pl.lit("day-1/a.csv").alias("_source_key")
    )


def test_without_predictions_the_sample_is_stratified_and_stable():
    staged = _staged()
    chosen = select_for_labeling(staged, REVIEWS, 50)
    labels = staged.join(chosen.frame.select("review_id"), on="review_id")["category"]
    assert labels.value_counts()["count"].to_list() == [10] * 5
    assert "stratified by category" in chosen.method
    again = select_for_labeling(staged.reverse(), REVIEWS, 50)
    assert again.frame["review_id"].to_list() == chosen.frame["review_id"].to_list()


def test_excluded_records_are_never_selected():
    staged = _staged(100)
    exclude = set(staged["review_id"].head(90).to_list())
    chosen = select_for_labeling(staged, REVIEWS, 50, exclude=exclude)
    assert set(chosen.frame["review_id"]) == set(staged["review_id"].tail(10))
    assert chosen.candidates == 10


def test_with_predictions_lowest_confidence_comes_first():
    staged = _staged(100)
    ids = staged["review_id"].to_list()
    predictions = pl.DataFrame(
        {
            "review_id": ids[:50],
            "predicted_label": ["books"] * 50,
            "confidence": [0.2 + i / 100 for i in range(50)],
        }
    )
    chosen = select_for_labeling(staged, REVIEWS, 60, predictions=predictions)
    assert chosen.frame["review_id"].head(50).to_list() == ids[:50]
    assert chosen.frame["confidence"].head(3).to_list() == pytest.approx([0.2, 0.21, 0.22])
    assert chosen.frame["confidence"].tail(10).is_null().all()  # unpredicted come last
    assert "lowest model confidence first" in chosen.method


def _ann(
    record: str, annotation: str, label: str | None, who: str, minutes: int
) -> AnnotationRecord:
    at = T0 + timedelta(minutes=minutes)
    return AnnotationRecord(
        record, f"t-{record}", annotation, label, who, at, at, "txt", "a.csv", 42
    )


def test_rows_keep_the_latest_label_and_a_second_annotator():
    frame = labeled_frame(
        [
            _ann("r1", "1", "books", "ann@x.io", 1),
            _ann("r1", "2", "toys", "simulated:oracle-v1", 5),
            _ann("r2", "3", "kitchen", "ann@x.io", 2),
            _ann("r3", "4", None, "ann@x.io", 2),  # submitted without a choice: no label
        ],
        REVIEWS,
        "label-studio",
        "7",
    )
    assert frame["review_id"].to_list() == ["r1", "r2"]
    first = frame.row(0, named=True)
    assert (first["label"], first["annotator"], first["annotation_count"]) == (
        "toys", "simulated:oracle-v1", 2
    )  # fmt: skip
    assert (first["second_label"], first["second_annotator"]) == ("books", "ann@x.io")
    assert first[STAGED_SNAPSHOT_ID] == 42
    assert first["labeled_at"] == T0 + timedelta(minutes=5)


def test_changes_count_inserted_updated_removed_and_unchanged():
    old = [("r1", "books", 1), ("r2", "toys", 1), ("r3", "toys", 1)]
    new = [("r1", "books", 1), ("r2", "kitchen", 9), ("r4", "toys", 1)]
    before = labeled_frame([_ann(r, r, lab, "a", m) for r, lab, m in old], REVIEWS, "ls", "7")
    after = labeled_frame([_ann(r, r, lab, "a", m) for r, lab, m in new], REVIEWS, "ls", "7")
    changes = changes_since(after, before, "review_id")
    assert (changes.inserted, changes.updated, changes.unchanged) == (1, 1, 1)
    assert changes.removed == ["r3"]
    assert sorted(changes.upserts["review_id"].to_list()) == ["r2", "r4"]
    assert changes_since(after, after, "review_id").upserts.is_empty()


def test_simulated_logins_are_never_a_persons_name():
    assert (
        annotator_from_login("simulated-oracle-v1@data-platform.invalid") == "simulated:oracle-v1"
    )
    assert annotator_from_login("simulated-oracle-v1") == "simulated:oracle-v1"
    assert annotator_from_login("simulated-bob@gmail.com") == "simulated-bob@gmail.com"
    assert annotator_from_login("ann@example.com") == "ann@example.com"
