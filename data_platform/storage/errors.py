"""One small exception hierarchy; every message names the bucket and the key.

``translate`` maps what the ``minio`` SDK and urllib3 raise onto it, so callers catch
``StorageError`` (or one subclass) and never an SDK type:

==================  ===============================================================
``NotFound``        bucket, object or version missing (``NoSuchKey``, ``NoSuchBucket``...)
``AccessDenied``    wrong keys (``InvalidAccessKeyId``, ``SignatureDoesNotMatch``) or a
                    permission the identity lacks (a read-only key writing)
``InvalidName``     bad bucket name or unsafe key; raised before any request is sent
``Conflict``        bucket not empty, precondition failed, bucket owned by someone else
``Unsupported``     the server does not implement the API (``NotImplemented``)
``Unavailable``     transient failures (connection refused, 5xx, SlowDown) outlasted
                    the bounded retry policy
``IntegrityError``  downloaded bytes do not match the SHA-256 recorded at upload
==================  ===============================================================
"""

from __future__ import annotations

from minio.error import InvalidResponseError, S3Error, ServerError


class StorageError(Exception):
    """Any failure talking to the object store."""

    def __init__(
        self,
        message: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        code: str | None = None,
    ) -> None:
        where = f"s3://{bucket}/{key}" if bucket and key else (f"s3://{bucket}" if bucket else "")
        super().__init__(f"{message} ({where})" if where else message)
        self.bucket = bucket
        self.key = key
        self.code = code


class NotFound(StorageError):
    """The bucket, object or version does not exist."""


class AccessDenied(StorageError):
    """The credentials are wrong or lack the permission."""


class InvalidName(StorageError, ValueError):
    """A bucket name or object key is invalid or unsafe; rejected before any request."""


class Conflict(StorageError):
    """The request conflicts with the current state (bucket not empty, precondition failed)."""


class Unsupported(StorageError):
    """The server does not implement this API (e.g. SeaweedFS: notifications, S3 Select)."""


class Unavailable(StorageError):
    """The store could not be reached, or kept failing, within the bounded retry policy."""


class IntegrityError(StorageError):
    """Downloaded bytes do not match the checksum recorded at upload."""


_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NoSuchUpload", "ResourceNotFound"}
_CONFLICT = {
    "BucketNotEmpty",
    "PreconditionFailed",
    "BucketAlreadyExists",
    "OperationAborted",
    "ResourceConflict",
}
_UNSUPPORTED = {"NotImplemented"}
_HINTS = {
    "InvalidAccessKeyId": "the access key is unknown to the server: check DP_S3_ACCESS_KEY",
    "SignatureDoesNotMatch": "the secret key does not match the access key: check DP_S3_SECRET_KEY",
    "AccessDenied": "the credentials are wrong, or this identity lacks the permission "
    "(a read-only key cannot write; the analyst cannot read landing/, archive/, quarantine/ "
    "or raw's files, which hold personal values as they arrived)",
    "AllAccessDisabled": "all access to this resource is disabled",
}
_STATUS_CODES = {403: "AccessDenied", 404: "NoSuchKey", 409: "Conflict", 501: "NotImplemented"}


def _classify(code: str, message: str, bucket: str | None, key: str | None) -> StorageError:
    if code == "NoSuchBucket":
        # Name the missing bucket plainly: the key is irrelevant when the bucket is absent.
        return NotFound(f"{code}: bucket {bucket!r} does not exist", bucket=bucket, code=code)
    if code in _NOT_FOUND:
        return NotFound(f"{code}: {message}", bucket=bucket, key=key, code=code)
    if code in _HINTS:
        return AccessDenied(f"{code}: {_HINTS[code]}", bucket=bucket, key=key, code=code)
    if code in _CONFLICT:
        return Conflict(f"{code}: {message}", bucket=bucket, key=key, code=code)
    if code in _UNSUPPORTED:
        return Unsupported(
            f"{code}: the server does not implement this API ({message})",
            bucket=bucket,
            key=key,
            code=code,
        )
    return StorageError(f"{code}: {message}", bucket=bucket, key=key, code=code)


def translate(exc: BaseException, *, bucket: str | None, key: str | None = None) -> StorageError:
    """Map an SDK or transport error onto the hierarchy, keeping the server's code.

    Args:
        exc: What the ``minio`` SDK (``S3Error``, ``ServerError``, ``InvalidResponseError``)
            or urllib3 raised.
        bucket: The bucket the request was about, for the message.
        key: The object key (or prefix) the request was about, for the message.

    Returns:
        The matching ``StorageError`` subclass; ``StorageError`` itself when unknown.
    """
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, S3Error):
        code = exc.code or "Error"
        return _classify(code, exc.message or code, bucket, key)
    if isinstance(exc, ServerError):
        status = exc.status_code
        code = _STATUS_CODES.get(status, f"HTTP{status}")
        return _classify(code, f"server answered HTTP {status}", bucket, key)
    if isinstance(exc, InvalidResponseError):
        return StorageError(f"unexpected response from the server: {exc}", bucket=bucket, key=key)
    return Unavailable(f"{type(exc).__name__}: {exc}", bucket=bucket, key=key)
