"""The Argilla backend (argilla SDK 2.x): a dataset per platform dataset, records, responses.

Mapping: project = Argilla dataset `<prefix><dataset>` in a workspace, with a `text` field
and a single-label `label` question; task = record (our record id is its `external_id`,
source key and staged snapshot are record metadata); annotation = a submitted response
(one per user and record: a relabel updates it). Calls go through the SDK's typed API;
records with their responses are read through the SDK's HTTP client because the SDK's
response model drops the response id and timestamps the labeled table keeps.

No Argilla server can run on these machines (it needs Elasticsearch); the adapter is
tested against recorded exchanges of Argilla 2.8's REST API.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any
from uuid import UUID

from data_platform.contracts import Contract
from data_platform.labeling.backend import (
    LABEL_FIELD,
    TEXT_FIELD,
    AnnotationRecord,
    LabelingBackend,
    LabelingError,
    ProjectInfo,
    PushResult,
    TaskRecord,
    annotator_from_login,
    simulated_login,
    trace_fields,
    traced,
)

PAGE = 500  # the server's bulk and list limits are 500 and 1000


class ArgillaBackend(LabelingBackend):
    """An Argilla 2.x server reached with an API key, datasets in one workspace."""

    kind = "argilla"
    display_name = "Argilla"
    unreachable_hint = "Check DP_LABELING_URL."

    def __init__(
        self,
        url: str,
        api_key: str,
        project_prefix: str = "data_platform/",
        *,
        workspace: str = "data_platform",
        http_client_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(url, project_prefix)
        self._api_key = api_key
        self.workspace = workspace
        self._http_args = http_client_args or {}
        self._user_ids: dict[str | None, UUID] = {}

    def project_title(self, spec: Contract) -> str:
        # dataset names are URL path segments in Argilla: no '/'
        return f"{self.project_prefix}{spec.name}".replace("/", "-")

    @cached_property
    def client(self) -> Any:
        import argilla as rg

        return self._call(
            "connecting",
            lambda: rg.Argilla(
                api_url=self.url, api_key=self._api_key, retries=1, **self._http_args
            ),
        )

    def _refusal(self, exc: Exception) -> str | None:
        import httpx
        from argilla._exceptions import ArgillaError

        return str(exc) if isinstance(exc, ArgillaError | httpx.HTTPStatusError) else None

    def _project_name(self, title: str) -> str:
        return f"dataset {title!r} in workspace {self.workspace!r}"

    def _http(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.http_client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    # -- projects ----------------------------------------------------------------------------
    def check(self) -> None:
        _ = self.client  # the SDK validates the key with GET /api/v1/me

    def _workspace_id(self, create: bool) -> UUID | None:
        from argilla._models import WorkspaceModel

        found = [w for w in self.client.api.workspaces.list() if w.name == self.workspace]
        if found:
            return found[0].id
        if not create:
            return None
        return self.client.api.workspaces.create(WorkspaceModel(name=self.workspace)).id

    def find_project(self, spec: Contract) -> ProjectInfo | None:
        title = self.project_title(spec)

        def find() -> ProjectInfo | None:
            workspace_id = self._workspace_id(create=False)
            if workspace_id is None:
                return None
            for dataset in self.client.api.datasets.list(workspace_id):
                if dataset.name == title and dataset.workspace_id == workspace_id:
                    return self._info(dataset.id, title)
            return None

        return self._call(f"looking up dataset {title!r}", find)

    def ensure_project(self, spec: Contract) -> ProjectInfo:
        found = self.find_project(spec)
        if found is not None:
            labels = self._call("reading the label question", lambda: self._labels(found))
            if labels != list(spec.classes):
                raise LabelingError(
                    f"Argilla dataset {found.title!r} asks for {labels}, the declaration now "
                    f"has {list(spec.classes)}: a published question cannot change its labels; "
                    "use a new DP_LABELING_PROJECT_PREFIX"
                )
            return found
        return self._call(
            f"creating dataset {self.project_title(spec)!r}", lambda: self._create(spec)
        )

    def _create(self, spec: Contract) -> ProjectInfo:
        from argilla._models import DatasetModel, FieldModel, QuestionModel, TextFieldSettings
        from argilla._models._settings._questions import LabelQuestionSettings

        api, title = self.client.api, self.project_title(spec)
        model = DatasetModel(
            name=title, workspace_id=self._workspace_id(create=True), guidelines=spec.description
        )
        dataset = api.datasets.create(model)
        api.fields.create(
            FieldModel(name=TEXT_FIELD, settings=TextFieldSettings(), dataset_id=dataset.id)
        )
        options = [{"value": c, "text": c, "description": None} for c in spec.classes]
        api.questions.create(
            QuestionModel(
                name=LABEL_FIELD,
                title=f"{spec.name}: pick one class",
                settings=LabelQuestionSettings(options=options),
                dataset_id=dataset.id,
            )
        )
        api.datasets.publish(dataset.id)
        return self._info(dataset.id, title)

    def _labels(self, project: ProjectInfo) -> list[str]:
        questions = self.client.api.questions.list(UUID(project.project_id))
        question = next((q for q in questions if q.name == LABEL_FIELD), None)
        return [o["value"] for o in question.settings.options] if question else []

    def project_url(self, project: ProjectInfo) -> str:
        return f"{self.url}/dataset/{project.project_id}/annotation-mode"

    # -- records -----------------------------------------------------------------------------
    def _records(self, project: ProjectInfo, responses: bool) -> Iterator[dict[str, Any]]:
        path = f"/api/v1/datasets/{project.project_id}/records"
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": PAGE}
            if responses:
                params["include"] = ["responses"]
            items = self._http("GET", path, params=params)["items"]
            yield from items
            if len(items) < PAGE:
                return
            offset += PAGE

    def queued(self, spec: Contract) -> dict[str, str]:
        project = self.find_project(spec)
        if project is None:
            return {}
        records = self._call("listing records", lambda: list(self._records(project, False)))
        return {r["external_id"]: r["id"] for r in records if r.get("external_id")}

    def push(self, spec: Contract, tasks: Sequence[TaskRecord]) -> PushResult:
        from argilla._models import RecordModel

        project = self.ensure_project(spec)
        existing = self.queued(spec)
        new = list({t.record_id: t for t in tasks if t.record_id not in existing}.values())
        created: dict[str, str] = {}
        for start in range(0, len(new), PAGE):
            batch = [
                RecordModel(
                    fields={TEXT_FIELD: t.text},
                    metadata=trace_fields(t),
                    external_id=t.record_id,
                    suggestions=[],
                )
                for t in new[start : start + PAGE]
            ]
            made = self._call(
                f"creating {len(batch)} records",
                partial(self.client.api.records.bulk_create, UUID(project.project_id), batch),
            )
            created.update({str(r.external_id): str(r.id) for r in made})
        return PushResult(project, len(created), len(tasks) - len(new), {**existing, **created})

    def delete_task(self, spec: Contract, task_id: str) -> None:
        self._call(
            f"deleting record {task_id}", lambda: self._http("DELETE", f"/api/v1/records/{task_id}")
        )

    # -- responses ---------------------------------------------------------------------------
    def annotations(self, spec: Contract) -> list[AnnotationRecord]:
        project = self._require(spec)
        records = self._call("listing responses", lambda: list(self._records(project, True)))
        users = self._call(
            "listing users", lambda: {u.id: u.username for u in self.client.api.users.list()}
        )
        out = []
        for record in records:
            meta = record.get("metadata") or {}
            for response in record.get("responses") or []:
                if response["status"] != "submitted":
                    continue
                value = (response.get("values") or {}).get(LABEL_FIELD, {}).get("value")
                login = users.get(UUID(response["user_id"]), "") if response.get("user_id") else ""
                out.append(
                    AnnotationRecord(
                        record_id=str(record["external_id"]),
                        task_id=str(record["id"]),
                        annotation_id=str(response["id"]),
                        label=value,
                        annotator=annotator_from_login(login),
                        created_at=_utc(response["inserted_at"]),
                        updated_at=_utc(response["updated_at"]),
                        text=str(record["fields"].get(TEXT_FIELD, "")),
                        **traced(meta),
                    )
                )
        return out

    def annotate(
        self, spec: Contract, task_id: str, label: str, annotator: str | None = None
    ) -> str:
        return self.annotate_many(spec, {task_id: label}, annotator)[0]

    def annotate_many(
        self, spec: Contract, labels: Mapping[str, str], annotator: str | None = None
    ) -> list[str]:
        """One bulk upsert per 500 records; the server keeps one response per user and record."""
        project = self._require(spec)
        user_id = self._call("finding the annotator", lambda: self._user_id(annotator))
        items = [
            {
                "id": task_id,
                "responses": [
                    {
                        "user_id": str(user_id),
                        "values": {LABEL_FIELD: {"value": label}},
                        "status": "submitted",
                    }
                ],
            }
            for task_id, label in labels.items()
        ]
        path = f"/api/v1/datasets/{project.project_id}/records/bulk"
        response_ids: dict[str, str] = {}
        for start in range(0, len(items), PAGE):
            body = {"items": items[start : start + PAGE]}
            done = self._call("submitting responses", partial(self._http, "PUT", path, json=body))
            for record in done.get("items", []):
                for response in record.get("responses") or []:
                    if response.get("user_id") == str(user_id):
                        response_ids[str(record["id"])] = str(response["id"])
        # the server keeps one response per user and record: that pair names it otherwise
        return [response_ids.get(str(t), f"{t}:{user_id}") for t in labels]

    def _user_id(self, annotator: str | None) -> UUID:
        if annotator in self._user_ids:
            return self._user_ids[annotator]
        api = self.client.api
        if annotator is None:
            user_id = api.users.get_me().id
        else:
            from argilla._models import UserModel

            login = simulated_login(annotator)
            found = [u for u in api.users.list() if u.username == login]
            user = (
                found[0]
                if found
                else api.users.create(
                    UserModel(
                        username=login,
                        first_name=annotator,
                        role="annotator",
                        password=secrets.token_urlsafe(16),
                    )
                )
            )
            user_id = user.id
            workspace_id = self._workspace_id(create=True)
            if user_id not in {u.id for u in api.users.list_by_workspace_id(workspace_id)}:
                api.users.add_to_workspace(workspace_id, user_id)
        self._user_ids[annotator] = user_id
        return user_id


def _utc(value: str) -> datetime:
    """Argilla writes naive UTC timestamps."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
