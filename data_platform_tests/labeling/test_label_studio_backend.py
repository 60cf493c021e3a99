"""The Label Studio backend against a real Label Studio server."""

from __future__ import annotations

import pytest

from data_platform.labeling.backend import (
    LabelingError,
    LabelingUnavailableError,
    ProjectNotFoundError,
    TaskRecord,
)
from data_platform.labeling.label_studio import LabelStudioBackend, label_config
from data_platform.ops.stack.process import free_port
from data_platform_tests.defs.helpers import sample_rows

pytestmark = pytest.mark.integration


def _tasks(spec, rows=6, source="day-1/a.csv", snapshot=123):
    frame = sample_rows(spec.name, rows, seed=4)
    return [
        TaskRecord(r[spec.id_column], r[spec.text_column], source, snapshot)
        for r in frame.iter_rows(named=True)
    ]


def test_project_is_created_once_with_the_declared_classes(labeling_backend, reviews):
    assert labeling_backend.find_project(reviews) is None
    project = labeling_backend.ensure_project(reviews)
    assert labeling_backend.ensure_project(reviews) == project
    stored = labeling_backend.client.projects.get(id=int(project.project_id))
    assert stored.label_config == label_config(reviews)
    for name in reviews.classes:
        assert f'<Choice value="{name}"/>' in stored.label_config
    assert project.url.endswith(f"/projects/{project.project_id}/data")


def test_pushing_twice_creates_no_duplicate_tasks(labeling_backend, reviews):
    tasks = _tasks(reviews)
    first = labeling_backend.push(reviews, tasks)
    second = labeling_backend.push(reviews, tasks + tasks[:2])
    assert (first.created, first.already_queued) == (6, 0)
    assert (second.created, second.already_queued) == (0, 8)
    assert second.task_ids == first.task_ids
    assert len(labeling_backend.queued(reviews)) == 6


def test_annotation_via_the_api_reads_back_with_its_provenance(labeling_backend, reviews):
    task_ids = labeling_backend.push(
        reviews, _tasks(reviews, 2, snapshot=987654321012345678)
    ).task_ids
    record, task = next(iter(task_ids.items()))
    labeling_backend.annotate(reviews, task, "books")  # as the token's user: a person
    labeling_backend.annotate(reviews, task, "toys", annotator="simulated:oracle-v1")
    anns = sorted(labeling_backend.annotations(reviews), key=lambda a: a.annotator)
    assert [(a.record_id, a.label, a.annotator) for a in anns] == [
        (record, "books", "admin@data-platform.local"),
        (record, "toys", "simulated:oracle-v1"),
    ]
    assert anns[0].staged_snapshot_id == 987654321012345678  # no digits lost on the way
    assert anns[0].source_key == "day-1/a.csv"
    assert anns[0].task_id == task


def test_relabel_updates_the_same_annotation(labeling_backend, reviews):
    task = next(iter(labeling_backend.push(reviews, _tasks(reviews, 1)).task_ids.values()))
    first = labeling_backend.annotate(reviews, task, "books", annotator="simulated:a")
    again = labeling_backend.annotate(reviews, task, "kitchen", annotator="simulated:a")
    anns = labeling_backend.annotations(reviews)
    assert first == again
    assert [(a.annotation_id, a.label) for a in anns] == [(first, "kitchen")]
    assert anns[0].updated_at > anns[0].created_at


def test_deleted_task_disappears_with_its_annotations(labeling_backend, reviews):
    ids = labeling_backend.push(reviews, _tasks(reviews, 3)).task_ids
    for task in ids.values():
        labeling_backend.annotate(reviews, task, "toys")
    gone = sorted(ids)[0]
    labeling_backend.delete_task(reviews, ids[gone])
    assert gone not in labeling_backend.queued(reviews)
    assert sorted(a.record_id for a in labeling_backend.annotations(reviews)) == sorted(ids)[1:]


def test_missing_project_is_a_clear_error(labeling_backend, reviews):
    with pytest.raises(ProjectNotFoundError, match="materialise labeling/queue/reviews first"):
        labeling_backend.annotations(reviews)


def test_server_down_is_a_clear_error(reviews):
    down = LabelStudioBackend(f"http://127.0.0.1:{free_port()}", "0" * 40)
    with pytest.raises(LabelingUnavailableError, match="not reachable.*labeling up"):
        down.annotations(reviews)


def test_wrong_token_is_a_clear_error(label_studio_server, reviews):
    backend = LabelStudioBackend(label_studio_server.url, "0" * 40)
    with pytest.raises(LabelingError, match="HTTP 401 \\(check DP_LABELING_TOKEN\\)"):
        backend.check()


def test_task_pushed_under_the_former_field_names_reads_back(labeling_backend, reviews):
    """A project filled by an earlier version: `source_key`/`staged_snapshot_id` in task data."""
    project = labeling_backend.ensure_project(reviews)
    data = {"text": "old task", "record_id": "r-old", "source_key": "day-0/a.csv"}
    labeling_backend.client.projects.import_tasks(
        int(project.project_id),
        request=[{"data": {**data, "staged_snapshot_id": "555"}}],
        return_task_ids=True,
    )
    task = labeling_backend.queued(reviews)["r-old"]
    labeling_backend.annotate(reviews, task, "books")
    [ann] = labeling_backend.annotations(reviews)
    assert (ann.record_id, ann.source_key, ann.staged_snapshot_id) == ("r-old", "day-0/a.csv", 555)
