"""Bucket operations: create (idempotent), exists, list, delete (guarded), versioning.

Each method works on the store's own bucket unless another name is given.
"""

from __future__ import annotations

import json
from typing import Any

from minio.commonconfig import ENABLED
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.versioningconfig import SUSPENDED, VersioningConfig

from data_platform.storage.base import StoreBase
from data_platform.storage.errors import Conflict, StorageError
from data_platform.storage.models import BucketInfo
from data_platform.storage.names import check_bucket_name

_ALREADY_MINE = "BucketAlreadyOwnedByYou"


class BucketsMixin(StoreBase):
    """Bucket-level operations of `ObjectStore`."""

    def _bucket(self, bucket: str | None) -> str:
        name = bucket or self.bucket
        check_bucket_name(name)
        return name

    def ensure_bucket(self, bucket: str | None = None) -> bool:
        """Create the bucket unless it exists (idempotent, also under a race).

        Args:
            bucket: Another bucket than the store's own.

        Returns:
            True if this call created it, False if it was already there.
        """
        name = self._bucket(bucket)
        if self.bucket_exists(name):
            return False
        try:
            self._call("create bucket", lambda: self.client.make_bucket(name), bucket=name)
        except StorageError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == _ALREADY_MINE:
                return False  # created meanwhile by another writer: the goal is reached
            raise
        return True

    def set_policy(self, policy: dict[str, Any], bucket: str | None = None) -> None:
        """Replace the bucket's access policy (an S3 bucket policy document)."""
        name = self._bucket(bucket)
        document = json.dumps(policy)
        self._call(
            "set bucket policy", lambda: self.client.set_bucket_policy(name, document), bucket=name
        )

    def bucket_exists(self, bucket: str | None = None) -> bool:
        """True if the bucket exists (and these credentials may see it)."""
        name = self._bucket(bucket)
        return self._call("bucket exists", lambda: self.client.bucket_exists(name), bucket=name)

    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket visible to these credentials, sorted by name."""
        found = self._call("list buckets", self.client.list_buckets, bucket="")
        return sorted(
            (BucketInfo(name=b.name, created=b.creation_date) for b in found),
            key=lambda b: b.name,
        )

    def _bucket_is_empty(self, name: str) -> bool:
        # Versions count too: a bucket holding only old versions is not empty.
        def first() -> bool:
            listing = self.client.list_objects(
                name, recursive=True, include_version=True, use_url_encoding_type=False
            )
            return next(iter(listing), None) is None

        return self._call("list", first, bucket=name)

    def delete_bucket(self, bucket: str | None = None, *, force: bool = False) -> None:
        """Delete a bucket; refuse a non-empty one unless `force`.

        The emptiness check is made here, before the request, because some servers
        (SeaweedFS among them) delete a non-empty bucket without complaint.

        Args:
            bucket: Another bucket than the store's own.
            force: Delete every object version and delete marker first.

        Raises:
            Conflict: The bucket holds objects (or versions) and `force` is False.
            NotFound: The bucket does not exist.
        """
        name = self._bucket(bucket)
        if not self._bucket_is_empty(name):
            if not force:
                raise Conflict(
                    "BucketNotEmpty: bucket holds objects; delete them or pass force=True",
                    bucket=name,
                )
            self._empty_bucket(name)
        self._call("delete bucket", lambda: self.client.remove_bucket(name), bucket=name)

    def _empty_bucket(self, name: str) -> None:
        def remove_all() -> list[str]:
            listing = self.client.list_objects(name, recursive=True, include_version=True)
            doomed = (DeleteObject(o.object_name, o.version_id) for o in listing)
            return [f"{e.name}: {e.code}" for e in self.client.remove_objects(name, doomed)]

        failures = self._call("empty bucket", remove_all, bucket=name)
        if failures:
            raise StorageError(f"could not empty bucket: {', '.join(failures[:5])}", bucket=name)

    def set_versioning(self, enabled: bool, bucket: str | None = None) -> None:
        """Turn versioning on, or suspend it (S3 cannot switch it fully off again).

        Args:
            enabled: True keeps every version of every key from now on.
            bucket: Another bucket than the store's own.
        """
        name = self._bucket(bucket)
        config = VersioningConfig(ENABLED if enabled else SUSPENDED)
        self._call(
            "set versioning", lambda: self.client.set_bucket_versioning(name, config), bucket=name
        )

    def versioning_enabled(self, bucket: str | None = None) -> bool:
        """True while versioning is on (False when never enabled or suspended)."""
        name = self._bucket(bucket)
        config = self._call(
            "get versioning", lambda: self.client.get_bucket_versioning(name), bucket=name
        )
        return config.status == ENABLED
