"""What every part of `ObjectStore` shares: the SDK client, the bucket, the retry policy.

`ObjectStore` is assembled from one mixin per concern (buckets, transfers, versions,
presigned URLs); each sends its requests through `StoreBase._call`, so retrying and
error translation happen in exactly one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import urllib3
from minio import Minio
from minio.error import MinioException

from data_platform.storage.errors import translate
from data_platform.storage.names import check_bucket_name, check_part_size
from data_platform.storage.retry import RetryPolicy, call_with_retry

T = TypeVar("T")

SDK_ERRORS = (MinioException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)
"""What the SDK and its transport raise; translated. Anything else is a bug: left alone."""

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 16 * MIB
"""Multipart part size unless told otherwise; S3 allows 5 MiB to 5 GiB per part."""


class StoreBase:
    """The state shared by the `ObjectStore` mixins.

    Args:
        client: A configured ``minio.Minio`` (build it with `ObjectStore.from_settings`,
            which also switches the SDK's own retries off).
        bucket: The bucket this store reads and writes.
        retry: Bounds on retrying transient errors.
        part_size: Multipart part size in bytes for large uploads.
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        retry: RetryPolicy | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        check_bucket_name(bucket)
        check_part_size(part_size)
        self.client = client
        self.bucket = bucket
        self.retry = retry or RetryPolicy()
        self.part_size = part_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bucket={self.bucket!r})"

    def _call(
        self,
        what: str,
        fn: Callable[[], T],
        *,
        key: str | None = None,
        bucket: str | None = None,
        retry: bool = True,
    ) -> T:
        """Run one request with bounded retries; SDK errors become `StorageError`s.

        Args:
            what: The operation, for messages ("PUT", "stat"...).
            fn: The request, called again from scratch on each try.
            key: Key or prefix the request is about, for messages.
            bucket: Bucket the request is about; this store's bucket by default.
            retry: False when `fn` cannot be repeated (it consumed a one-shot stream).
        """
        where = bucket or self.bucket
        policy = self.retry if retry else RetryPolicy(attempts=1)
        try:
            return call_with_retry(fn, policy, what=what, bucket=where, key=key)
        except SDK_ERRORS as exc:
            raise translate(exc, bucket=where, key=key) from exc
