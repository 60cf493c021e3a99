"""Versioned training sets: Parquet exports of a lake table as of a tag, tracked by DVC."""

from data_platform.versioning.dvc import DVC_PREFIX, DVC_REMOTE, DvcError, DvcRepo
from data_platform.versioning.export import (
    ExportResult,
    export_dataset,
    pull_dataset,
    read_export_meta,
)

__all__ = [
    "DVC_PREFIX",
    "DVC_REMOTE",
    "DvcError",
    "DvcRepo",
    "ExportResult",
    "export_dataset",
    "pull_dataset",
    "read_export_meta",
]
