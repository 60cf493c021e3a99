"""Uploads -> labeling queue -> Label Studio -> sensor -> `labeled.reviews`, for real.

Label Studio, S3 and the Iceberg catalog are real; annotations are made through Label
Studio's API (by the simulated annotator or as the admin), as the web UI would.
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.backend import TaskRecord
from data_platform.labeling.simulate import simulate_annotations, staged_truth
from data_platform.ops.runner import ingest_landing
from data_platform.ops.stack.process import free_port
from data_platform_tests.defs.helpers import put_upload, sample_rows

pytestmark = pytest.mark.integration
BATCH = {"ops": {"labeling__queue__reviews": {"config": {"batch_size": 40}}}}


def _ingest_and_queue(defs, instance, settings, store, reviews, rows=120):
    put_upload(store, settings, "reviews", "day-1/a.csv", sample_rows("reviews", rows, seed=11))
    assert all(o.success for o in ingest_landing(defs, instance, (reviews,)))
    queued = defs.resolve_job_def("queue_labels_reviews")
    assert queued.execute_in_process(instance=instance, run_config=BATCH).success


def _push(labeling, reviews, rows=20):
    """Tasks pushed straight through the backend (the queue asset is tested end to end above)."""
    frame = sample_rows("reviews", rows, seed=11)
    tasks = [
        TaskRecord(r["review_id"], r["text"], "day-1/a.csv", 77)
        for r in frame.iter_rows(named=True)
    ]
    backend = labeling.get_backend()
    return backend, backend.push(reviews, tasks).task_ids


def _tick(defs, instance, labeling, cursor=None):
    sensor = defs.resolve_sensor_def("reviews_annotations_sensor")
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"labeling": labeling}, definitions=defs
    ) as context:
        return sensor(context)


def _sync(defs, instance, result):
    assert isinstance(result, dg.SensorResult), result
    [request] = result.run_requests
    job = defs.resolve_job_def("sync_labels_reviews")
    run = job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
    return run, {e.check_name: e for e in run.get_asset_check_evaluations()}


def _labeled(lakehouse):
    return lakehouse.read("labeled.reviews").data.to_pylist()


@pytest.mark.slow
def test_labels_flow_end_to_end_and_relabels_update_in_place(
    labeling_defs, instance, settings, store, lakehouse, labeling, reviews
):
    defs = labeling_defs
    _ingest_and_queue(defs, instance, settings, store, reviews)
    backend = labeling.get_backend()
    assert len(backend.queued(reviews)) == 40
    queue_meta = instance.get_latest_materialization_event(
        dg.AssetKey(["labeling", "queue", "reviews"])
    ).asset_materialization.metadata
    assert queue_meta["tasks_created"].value == 40
    assert "stratified by category" in queue_meta["priority"].value

    simulated = simulate_annotations(backend, reviews, staged_truth(lakehouse, reviews))
    assert (simulated.annotator, simulated.labeled) == ("simulated:oracle-v1", 40)
    first = _tick(defs, instance, labeling)
    run, checks = _sync(defs, instance, first)
    assert run.success
    rows = _labeled(lakehouse)
    assert len(rows) == 40
    assert {r["annotator"] for r in rows} == {"simulated:oracle-v1"}
    staged_snapshot = lakehouse.snapshot_id("staged.reviews")
    assert {r[STAGED_SNAPSHOT_ID] for r in rows} == {staged_snapshot}
    truth = staged_truth(lakehouse, reviews)
    assert all(r["label"] == truth[r["review_id"]] for r in rows)
    assert checks["labels_in_classes"].passed
    assert checks["class_balance"].passed
    assert "no record has two annotators" in checks["annotator_agreement"].description

    # nothing changed: the next tick skips
    assert isinstance(_tick(defs, instance, labeling, first.cursor), dg.SkipReason)

    # a relabel (the same annotator changes their answer) and a second annotator
    target = rows[0]
    other = next(c for c in reviews.classes if c != target["label"])
    backend.annotate(reviews, target["task_id"], other, annotator="simulated:oracle-v1")
    simulate_annotations(backend, reviews, truth, annotator="noisy-v1", noise=0.3, fraction=0.5)
    run, checks = _sync(defs, instance, _tick(defs, instance, labeling, first.cursor))
    after = {r["review_id"]: r for r in _labeled(lakehouse)}
    assert len(after) == 40  # updated in place, nothing duplicated
    relabelled = after[target["review_id"]]
    # the row shows the latest answer: the oracle's relabel, or the noisy annotator's after it
    oracle = relabelled if relabelled["annotator"] == "simulated:oracle-v1" else None
    assert oracle is None or (oracle["label"], oracle["annotation_id"]) == (
        other, target["annotation_id"]
    )  # fmt: skip
    assert other in (relabelled["label"], relabelled["second_label"])
    kappa = checks["annotator_agreement"]
    assert kappa.metadata["double_annotated"].value > 5
    assert 0.3 < kappa.metadata["cohen_kappa"].value < 1.0


def test_relabel_by_the_same_annotator_updates_the_row(
    labeling_defs, instance, settings, store, lakehouse, labeling, reviews
):
    defs = labeling_defs
    backend, task_ids = _push(labeling, reviews)
    record, task = sorted(task_ids.items())[0]
    backend.annotate(reviews, task, "books")
    first = _tick(defs, instance, labeling)
    assert _sync(defs, instance, first)[0].success
    [row] = _labeled(lakehouse)
    backend.annotate(reviews, task, "sports")  # the annotator edits their answer
    second = _tick(defs, instance, labeling, first.cursor)
    assert _sync(defs, instance, second)[0].success
    [updated] = _labeled(lakehouse)
    assert (updated["review_id"], updated["label"]) == (record, "sports")
    assert updated["annotation_id"] == row["annotation_id"]
    assert updated["updated_at"] > row["updated_at"]
    assert updated["annotator"] == "admin@data-platform.local"


def test_deleted_task_removes_its_row(
    labeling_defs, instance, settings, store, lakehouse, labeling, reviews
):
    defs = labeling_defs
    backend, task_ids = _push(labeling, reviews)
    tasks = sorted(task_ids.items())[:3]
    backend.annotate_many(reviews, {t: "toys" for _, t in tasks})
    first = _tick(defs, instance, labeling)
    _sync(defs, instance, first)
    backend.delete_task(reviews, tasks[0][1])
    run, _ = _sync(defs, instance, _tick(defs, instance, labeling, first.cursor))
    assert sorted(r["review_id"] for r in _labeled(lakehouse)) == [r for r, _ in tasks[1:]]
    meta = run.asset_materializations_for_node("labeled__reviews")[0].metadata
    assert meta["rows_removed"].value == 1


def test_label_outside_the_classes_fails_the_check_clearly(
    labeling_defs, instance, settings, store, lakehouse, labeling, reviews
):
    defs = labeling_defs
    backend, task_ids = _push(labeling, reviews)
    (record, task), *_ = sorted(task_ids.items())
    backend.annotate(reviews, task, "furniture")  # the API accepts what the UI would not
    run, checks = _sync(defs, instance, _tick(defs, instance, labeling))
    check = checks["labels_in_classes"]
    assert not check.passed
    assert "1 of 1 labels are not declared classes of reviews: 'furniture' x1" in check.description
    assert "declared: books, electronics, kitchen, toys, sports" in check.description
    assert record in check.description
    assert lakehouse.count("labeled.reviews") == 1  # the table mirrors the tool; the check blocks


def test_server_down_skips_the_sensor_fails_the_sync_and_loses_nothing(
    labeling_defs, instance, settings, store, lakehouse, labeling, reviews
):
    defs = labeling_defs
    backend, task_ids = _push(labeling, reviews)
    task = next(iter(task_ids.values()))
    backend.annotate(reviews, task, "kitchen")
    first = _tick(defs, instance, labeling)
    _sync(defs, instance, first)
    snapshot = lakehouse.snapshot_id("labeled.reviews")
    backend.annotate(reviews, task, "toys")  # made while the platform cannot see the server

    down = LabelingResource(url=f"http://127.0.0.1:{free_port()}", token="0" * 40)
    skipped = _tick(defs, instance, down, first.cursor)
    assert isinstance(skipped, dg.SkipReason)
    assert "labeling server unavailable; will retry" in skipped.skip_message
    assert "is not reachable" in skipped.skip_message
    dead_defs = build_definitions(SettingsResource.from_settings(settings), down)
    result = dead_defs.resolve_job_def("sync_labels_reviews").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "is not reachable" in failure.event_specific_data.error.message
    assert lakehouse.snapshot_id("labeled.reviews") == snapshot  # nothing written

    # the server is back: the change made meanwhile arrives
    back = _tick(defs, instance, labeling, first.cursor)
    assert json.loads(back.cursor)["annotations"] == 1
    _sync(defs, instance, back)
    assert [r["label"] for r in _labeled(lakehouse)] == ["toys"]
