"""The Argilla backend against RECORDED exchanges of Argilla 2.8's REST API.

No Argilla server can run here (it needs Elasticsearch or OpenSearch). The real argilla
SDK sends its requests through an httpx transport that answers from recordings written
from the server's v1 schemas and the SDK source (see `argilla_replay.py`); the tests
assert what the adapter sent and what it made of the answers. A dead port (no recording)
is used for the server-down case.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from data_platform.contracts.columns import STAGED_SNAPSHOT_ID
from data_platform.labeling.argilla import ArgillaBackend
from data_platform.labeling.backend import LabelingError, LabelingUnavailableError, TaskRecord
from data_platform.labeling.rows import labeled_frame
from data_platform.ops.stack.process import free_port
from data_platform_tests.labeling.argilla_replay import Replay

DS = "20000000-0000-4000-8000-000000000001"
REC1 = "50000000-0000-4000-8000-000000000001"
SIM = "00000000-0000-4000-8000-000000000002"
TEXTS = [
    "This novel is excellent. Would buy again.",
    "My new charger is flimsy.",
    "The kettle is okay.",
]


def _backend(replay: Replay) -> ArgillaBackend:
    return ArgillaBackend(
        "http://argilla.invalid:6900",
        "recorded-key",
        workspace="data_platform",
        http_client_args={"mounts": {"all://": replay.transport()}},
    )


def test_argilla_recorded_roundtrip_push_annotate_read(reviews):
    replay = Replay.load("argilla_2.8_roundtrip.json")
    backend = _backend(replay)
    tasks = [
        TaskRecord(f"r-00000000{i}", TEXTS[i], "day-1/a.csv", 4611686018427387904) for i in range(3)
    ]
    first = backend.push(reviews, tasks)
    again = backend.push(reviews, tasks)
    assert (first.created, first.already_queued) == (3, 0)
    assert (again.created, again.already_queued) == (0, 3)
    assert first.task_ids["r-000000000"] == REC1
    assert first.project.title == "data_platform-reviews"

    question = replay.bodies("POST", f"/api/v1/datasets/{DS}/questions")[0]
    assert question["name"] == "label"
    assert [o["value"] for o in question["settings"]["options"]] == list(reviews.classes)
    created = replay.bodies("POST", f"/api/v1/datasets/{DS}/records/bulk")[0]["items"]
    assert created[0]["external_id"] == "r-000000000"
    assert created[0]["metadata"][STAGED_SNAPSHOT_ID] == "4611686018427387904"

    backend.annotate(reviews, REC1, "books", annotator="simulated:oracle-v1")
    user = replay.bodies("POST", "/api/v1/users")[0]
    assert user["username"] == "simulated-oracle-v1"
    upsert = replay.bodies("PUT", f"/api/v1/datasets/{DS}/records/bulk")[0]["items"][0]
    assert upsert["responses"] == [
        {"user_id": SIM, "values": {"label": {"value": "books"}}, "status": "submitted"}
    ]

    [ann] = backend.annotations(reviews)  # the admin's draft on record 2 is not a label
    assert (ann.record_id, ann.label, ann.annotator) == (
        "r-000000000",
        "books",
        "simulated:oracle-v1",
    )
    assert ann.updated_at == datetime(2026, 11, 20, 9, 6, 30, tzinfo=UTC)
    assert ann.staged_snapshot_id == 4611686018427387904
    assert labeled_frame([ann], reviews, backend.kind, DS)["backend"].to_list() == ["argilla"]
    assert replay.unused() == []


def test_argilla_recorded_wrong_key_is_a_clear_error(reviews):
    backend = _backend(Replay.load("argilla_2.8_bad_key.json"))
    with pytest.raises(LabelingError, match="Argilla at http://argilla.invalid:6900 refused"):
        backend.find_project(reviews)


def test_argilla_down_is_a_clear_error(reviews):
    backend = ArgillaBackend(f"http://127.0.0.1:{free_port()}", "key")
    with pytest.raises(LabelingUnavailableError, match="not reachable while connecting"):
        backend.annotations(reviews)
