"""The object-store client: typed CRUD over MinIO and any S3-compatible store."""

from data_platform.storage.client import ObjectStore
from data_platform.storage.errors import (
    AccessDenied,
    Conflict,
    IntegrityError,
    InvalidName,
    NotFound,
    StorageError,
    Unavailable,
    Unsupported,
)
from data_platform.storage.models import BucketInfo, ListPage, ObjectInfo, ObjectVersion
from data_platform.storage.retry import RetryPolicy

__all__ = [
    "AccessDenied",
    "BucketInfo",
    "Conflict",
    "IntegrityError",
    "InvalidName",
    "ListPage",
    "NotFound",
    "ObjectInfo",
    "ObjectStore",
    "ObjectVersion",
    "RetryPolicy",
    "StorageError",
    "Unavailable",
    "Unsupported",
]
