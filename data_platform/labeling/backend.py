"""The labeling backend interface: what the platform asks of Label Studio or Argilla.

A dataset has one project (Label Studio) or dataset (Argilla) per backend, named
`<project_prefix><dataset>`. A record is pushed as one task carrying the record id, the
text, the upload it came from and the snapshot of `staged.<dataset>` it was read at, so
every label can be traced back to the exact data the annotator saw.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from data_platform.contracts import Contract
from data_platform.contracts.columns import FORMER_NAMES, SOURCE_KEY, STAGED_SNAPSHOT_ID

SIMULATED_PREFIX = "simulated:"
SIMULATED_LOGIN_PREFIX = "simulated-"  # logins may not contain ':'; shown as `simulated:<name>`
SIMULATED_EMAIL_DOMAIN = "data-platform.invalid"  # reserved TLD: never a real person's mail
LABEL_FIELD = "label"  # the question / choices control of every labeling config
TEXT_FIELD = "text"
T = TypeVar("T")


class LabelingError(RuntimeError):
    """A labeling server refused or failed a request."""


class LabelingUnavailableError(LabelingError):
    """The labeling server cannot be reached (down, wrong URL). Nothing was changed."""


class ProjectNotFoundError(LabelingError):
    """The dataset has no project on the labeling server yet."""


@dataclass(frozen=True)
class TaskRecord:
    """One record to label, as pushed to the labeling server."""

    record_id: str
    text: str
    source_key: str
    staged_snapshot_id: int | None
    predicted_label: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class AnnotationRecord:
    """One submitted annotation, as read back from the labeling server."""

    record_id: str
    task_id: str
    annotation_id: str
    label: str | None
    annotator: str
    created_at: datetime
    updated_at: datetime
    text: str
    source_key: str
    staged_snapshot_id: int | None


@dataclass(frozen=True)
class ProjectInfo:
    """The dataset's project on the server: its id, title and where a person opens it."""

    project_id: str
    title: str
    url: str


@dataclass(frozen=True)
class PushResult:
    """What one push did: tasks created, and records that were already queued."""

    project: ProjectInfo
    created: int
    already_queued: int
    task_ids: dict[str, str]


def simulated_annotator(name: str) -> str:
    """The annotator name of a simulated annotator, e.g. `simulated:oracle-v1`."""
    return name if name.startswith(SIMULATED_PREFIX) else f"{SIMULATED_PREFIX}{name}"


def annotator_from_login(login: str) -> str:
    """The `annotator` value for a server login: `simulated:<name>` for simulated users.

    Simulated users are `simulated-<name>@data-platform.invalid` (Label Studio) or
    `simulated-<name>` (Argilla); every other login (a person) is returned unchanged.
    """
    local, _, domain = login.partition("@")
    if local.startswith(SIMULATED_LOGIN_PREFIX) and domain in ("", SIMULATED_EMAIL_DOMAIN):
        return SIMULATED_PREFIX + local.removeprefix(SIMULATED_LOGIN_PREFIX)
    return login


def simulated_login(annotator: str) -> str:
    """`simulated:oracle-v1` -> `simulated-oracle-v1` (the server-side user name)."""
    if not annotator.startswith(SIMULATED_PREFIX):
        raise ValueError(f"{annotator!r} is not a simulated annotator (needs {SIMULATED_PREFIX})")
    return SIMULATED_LOGIN_PREFIX + annotator.removeprefix(SIMULATED_PREFIX)


def int_or_none(value: Any) -> int | None:
    """`value` as an int, or None when it is missing or not a number (server metadata)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def trace_fields(task: TaskRecord) -> dict[str, Any]:
    """What a task carries besides its text: its upload, its staged snapshot, the model's guess."""
    fields: dict[str, Any] = {SOURCE_KEY: task.source_key}
    if task.staged_snapshot_id is not None:
        # a string: 64-bit snapshot ids lose digits as JavaScript numbers in the web UI
        fields[STAGED_SNAPSHOT_ID] = str(task.staged_snapshot_id)
    if task.confidence is not None:
        fields["model_confidence"] = round(task.confidence, 4)
        fields["model_prediction"] = task.predicted_label
    return fields


def traced(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`source_key` and `staged_snapshot_id` read back from a task's `trace_fields`.

    Tasks pushed by earlier versions carry the fields under their former names.
    """
    current = {**{FORMER_NAMES.get(k, k): v for k, v in fields.items()}, **fields}
    return {
        "source_key": str(current.get(SOURCE_KEY, "")),
        "staged_snapshot_id": int_or_none(current.get(STAGED_SNAPSHOT_ID)),
    }


class LabelingBackend(ABC):
    """The operations the platform needs from a labeling server, and the plumbing they share.

    An adapter names its server (`display_name`), says how to fix an unreachable one
    (`unreachable_hint`) and which of its SDK's exceptions are refusals (`_refusal`);
    `_call` turns transport errors and refusals into the platform's errors.
    """

    kind: str
    display_name: str
    unreachable_hint: str

    def __init__(self, url: str, project_prefix: str) -> None:
        self.url = url.rstrip("/")
        self.project_prefix = project_prefix

    def project_title(self, spec: Contract) -> str:
        return f"{self.project_prefix}{spec.name}"

    # -- shared plumbing ---------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call, turning transport and HTTP errors into clear platform errors."""
        import httpx  # both SDKs talk through httpx

        try:
            return fn()
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise LabelingUnavailableError(
                f"{self.display_name} at {self.url} is not reachable while {what} "
                f"({type(exc).__name__}: {exc}). {self.unreachable_hint} Nothing was changed."
            ) from None
        except Exception as exc:
            reason = self._refusal(exc)
            if reason is None:
                raise
            raise LabelingError(
                f"{self.display_name} at {self.url} refused {what}: {reason}"
            ) from None

    @abstractmethod
    def _refusal(self, exc: Exception) -> str | None:
        """Why the server refused, if `exc` is its SDK reporting a refusal; else None."""

    def _project_name(self, title: str) -> str:
        """How a missing project is named in an error (adapters add where they looked)."""
        return f"project {title!r}"

    def _info(self, project_id: object, title: str) -> ProjectInfo:
        info = ProjectInfo(project_id=str(project_id), title=title, url="")
        return ProjectInfo(info.project_id, title, self.project_url(info))

    def _require(self, spec: Contract) -> ProjectInfo:
        """The dataset's project, or `ProjectNotFoundError` saying how to create it."""
        project = self.find_project(spec)
        if project is None:
            raise ProjectNotFoundError(
                f"{self.display_name} at {self.url} has no "
                f"{self._project_name(self.project_title(spec))}: "
                f"materialise labeling/queue/{spec.name} first"
            )
        return project

    # -- what each adapter implements --------------------------------------------------------

    @abstractmethod
    def check(self) -> None:
        """Raise `LabelingUnavailableError` unless the server answers and accepts the token."""

    @abstractmethod
    def find_project(self, spec: Contract) -> ProjectInfo | None:
        """The dataset's project, or None when it was never created."""

    @abstractmethod
    def ensure_project(self, spec: Contract) -> ProjectInfo:
        """Create the project with a text-classification config of `spec.classes` (idempotent)."""

    @abstractmethod
    def queued(self, spec: Contract) -> dict[str, str]:
        """Record id -> task id of every task in the project."""

    @abstractmethod
    def push(self, spec: Contract, tasks: Sequence[TaskRecord]) -> PushResult:
        """Create a task per record not yet in the project; records already there are skipped."""

    @abstractmethod
    def annotations(self, spec: Contract) -> list[AnnotationRecord]:
        """Every submitted (not skipped) annotation of the project.

        Raises:
            ProjectNotFoundError: the dataset has no project on this server.
        """

    @abstractmethod
    def annotate(
        self, spec: Contract, task_id: str, label: str, annotator: str | None = None
    ) -> str:
        """Label a task through the API (as `annotator`, or as the token's user if None).

        An annotator who already labeled the task gets their annotation updated (a
        relabel), as in the web UI. Returns the annotation id.
        """

    def annotate_many(
        self, spec: Contract, labels: Mapping[str, str], annotator: str | None = None
    ) -> list[str]:
        """`annotate` for many tasks (task id -> label); backends may do it in fewer calls."""
        return [self.annotate(spec, task_id, label, annotator) for task_id, label in labels.items()]

    @abstractmethod
    def delete_task(self, spec: Contract, task_id: str) -> None:
        """Remove a task (and its annotations) from the project."""

    @abstractmethod
    def project_url(self, project: ProjectInfo) -> str:
        """Where a person opens the project in the tool's web UI."""
