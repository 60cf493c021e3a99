"""One small exception hierarchy; every message names the bucket and the key."""

from __future__ import annotations

from minio.error import S3Error


class StorageError(Exception):
    """Any failure talking to the object store."""

    def __init__(self, message: str, *, bucket: str | None = None, key: str | None = None):
        where = f"s3://{bucket}/{key}" if bucket and key else (f"s3://{bucket}" if bucket else "")
        super().__init__(f"{message} ({where})" if where else message)
        self.bucket = bucket
        self.key = key


class NotFound(StorageError):
    """The bucket, object or version does not exist."""


class AccessDenied(StorageError):
    """The credentials are wrong or lack the permission."""


class InvalidName(StorageError, ValueError):
    """A bucket name or object key is invalid or unsafe; rejected before any request."""


class Conflict(StorageError):
    """The request conflicts with the current state (bucket not empty, precondition failed)."""


_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NoSuchUpload", "ResourceNotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}
_CONFLICT = {"BucketNotEmpty", "PreconditionFailed", "BucketAlreadyExists", "OperationAborted"}


def translate(exc: S3Error, *, bucket: str | None, key: str | None = None) -> StorageError:
    """Map an SDK error onto the hierarchy, keeping the server's code in the message."""
    code = exc.code or "Error"
    message = f"{code}: {exc.message}"
    if code in _NOT_FOUND:
        return NotFound(message, bucket=bucket, key=key)
    if code in _DENIED:
        return AccessDenied(message, bucket=bucket, key=key)
    if code in _CONFLICT:
        return Conflict(message, bucket=bucket, key=key)
    return StorageError(message, bucket=bucket, key=key)
