"""Labeling: the backend interface, Label Studio and Argilla adapters, the simulated annotator.

SDKs are imported when a backend is used, so importing this package stays cheap.
"""

from data_platform.labeling.backend import (
    AnnotationRecord,
    LabelingBackend,
    LabelingError,
    LabelingUnavailableError,
    ProjectInfo,
    ProjectNotFoundError,
    PushResult,
    TaskRecord,
    simulated_annotator,
)
from data_platform.labeling.connect import open_backend
from data_platform.labeling.simulate import simulate_annotations, staged_truth
from data_platform.settings import LabelingServerNotRunningError, LabelingSettings

__all__ = [
    "AnnotationRecord",
    "LabelingBackend",
    "LabelingError",
    "LabelingServerNotRunningError",
    "LabelingSettings",
    "LabelingUnavailableError",
    "ProjectInfo",
    "ProjectNotFoundError",
    "PushResult",
    "TaskRecord",
    "open_backend",
    "simulate_annotations",
    "simulated_annotator",
    "staged_truth",
]
