"""The object-store client: typed CRUD over MinIO and any S3-compatible store."""

from data_platform.storage.client import ObjectInfo, ObjectStore
from data_platform.storage.errors import (
    AccessDenied,
    Conflict,
    InvalidName,
    NotFound,
    StorageError,
)

__all__ = [
    "AccessDenied",
    "Conflict",
    "InvalidName",
    "NotFound",
    "ObjectInfo",
    "ObjectStore",
    "StorageError",
]
