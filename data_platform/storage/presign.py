"""Presigned URLs: time-limited GET and PUT links that need no credentials to use.

The signature is computed locally (no request is sent); the server checks it, and the
expiry, when the URL is used. A URL whose path, query or signature is altered is refused.
"""

from __future__ import annotations

from datetime import timedelta

from data_platform.storage.base import StoreBase
from data_platform.storage.names import check_key

MAX_EXPIRY = timedelta(days=7)  # the limit of SigV4 presigning
DEFAULT_EXPIRY = timedelta(hours=1)


def expiry(expires: timedelta | int | float) -> timedelta:
    """A validated expiry: a timedelta, or seconds, between 1 s and 7 days."""
    delta = expires if isinstance(expires, timedelta) else timedelta(seconds=expires)
    if not timedelta(seconds=1) <= delta <= MAX_EXPIRY:
        raise ValueError(f"expiry must be between 1 second and 7 days, got {delta}")
    return delta


class PresignMixin(StoreBase):
    """Presigned URLs of `ObjectStore`."""

    def presign_get(
        self,
        key: str,
        *,
        expires: timedelta | int | float = DEFAULT_EXPIRY,
        version_id: str | None = None,
    ) -> str:
        """A URL that downloads `key` with a plain HTTP GET until it expires.

        Args:
            key: The object (it need not exist yet; the GET would then answer 404).
            expires: Lifetime, a timedelta or seconds (1 s to 7 days).
            version_id: Pin the URL to one version.
        """
        check_key(key)
        lifetime = expiry(expires)
        return self._call(
            "presign GET",
            lambda: self.client.presigned_get_object(
                self.bucket, key, expires=lifetime, version_id=version_id
            ),
            key=key,
        )

    def presign_put(self, key: str, *, expires: timedelta | int | float = DEFAULT_EXPIRY) -> str:
        """A URL that uploads the request body to `key` with a plain HTTP PUT until it expires.

        Objects uploaded this way carry no recorded checksum (the client never saw them).
        """
        check_key(key)
        lifetime = expiry(expires)
        return self._call(
            "presign PUT",
            lambda: self.client.presigned_put_object(self.bucket, key, expires=lifetime),
            key=key,
        )
