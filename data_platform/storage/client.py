"""`ObjectStore`: the platform's client for one bucket of an S3-compatible store.

Object CRUD lives here; buckets, metadata and tags, versions, large transfers and
presigned URLs come from one mixin module each. Every key is checked (`names.py`) before a
request is sent, every request goes through the bounded retry policy, and every SDK error
comes out as a `StorageError` naming the bucket and key.
"""

from __future__ import annotations

import builtins
import io
import urllib.parse
from collections.abc import Iterable
from typing import Any

from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject

from data_platform.settings import Settings
from data_platform.storage.buckets import BucketsMixin
from data_platform.storage.checksum import Fetched, sha256_bytes, upload_metadata
from data_platform.storage.errors import (
    AccessDenied,
    Conflict,
    NotFound,
    StorageError,
)
from data_platform.storage.listing import ListingMixin
from data_platform.storage.metadata import MetadataMixin
from data_platform.storage.models import CHECKSUM_META, ObjectInfo, object_info
from data_platform.storage.names import check_key
from data_platform.storage.presign import PresignMixin
from data_platform.storage.retry import RetryPolicy, http_client
from data_platform.storage.transfer import TransferMixin
from data_platform.storage.versions import VersionsMixin

# whether a store (endpoint, bucket) renames: learnt on its first move, for this process
_RENAMES: dict[tuple[str, str], bool] = {}
# what servers without RenameObject answer it with
_NO_RENAME = {
    "NotImplemented",
    "InvalidRequest",
    "InvalidArgument",
    "MethodNotAllowed",
    "HTTP400",
    "HTTP405",
}


class ObjectStore(
    BucketsMixin, ListingMixin, TransferMixin, MetadataMixin, VersionsMixin, PresignMixin
):
    """CRUD on one bucket. Build it with `ObjectStore.from_settings(settings)`."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        bucket: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        part_size: int | None = None,
    ) -> ObjectStore:
        """The store for `settings` (endpoint, keys, region), with the SDK's retries off.

        Args:
            settings: The platform settings; the only source of endpoint and keys.
            bucket: Another bucket than `settings.bucket`.
            retry: Bounds on retrying transient errors; `RetryPolicy()` by default.
            part_size: Multipart part size in bytes; 16 MiB by default.
        """
        policy = retry or RetryPolicy()
        client = Minio(**minio_options(settings), http_client=http_client(policy))
        extra = {"part_size": part_size} if part_size else {}
        return cls(client, bucket or settings.bucket, retry=policy, **extra)

    def for_bucket(self, bucket: str) -> ObjectStore:
        """The same connection and policy, working on another bucket."""
        return ObjectStore(self.client, bucket, retry=self.retry, part_size=self.part_size)

    # -- write ---------------------------------------------------------------------------
    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        """Write `data` to `key` (replacing it), recording its SHA-256 in the metadata.

        Args:
            key: Object key; checked before any request.
            data: The whole content.
            content_type: Stored Content-Type.
            metadata: User metadata (sent as ``x-amz-meta-*``).

        Returns:
            The object's info as the server now reports it.
        """
        check_key(key)
        meta = upload_metadata(metadata, sha256_bytes(data))
        self._call(
            "PUT",
            lambda: self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=meta,  # type: ignore[arg-type]
            ),
            key=key,
        )
        return self.stat(key)

    # -- read ----------------------------------------------------------------------------
    def get_bytes(
        self,
        key: str,
        *,
        offset: int = 0,
        length: int | None = None,
        version_id: str | None = None,
    ) -> bytes:
        """Read an object, or `length` bytes of it from `offset` (a ranged GET).

        A whole-object read is checked against the recorded SHA-256, when there is one.

        Raises:
            NotFound: No such bucket, key or version.
            IntegrityError: The bytes differ from the checksum recorded at upload.
        """
        check_key(key)
        if offset < 0 or (length is not None and length <= 0):
            raise ValueError("offset must be >= 0 and length > 0")

        fetched = self._get(key, offset, length, version_id)
        if offset == 0 and length is None:
            fetched.verify()
        return fetched.data

    def fetch(self, key: str, *, version_id: str | None = None) -> Fetched:
        """Read a whole object; its checksum is checked by `Fetched.verify()`, when the
        caller chooses (ingestion hashes it in a thread while it parses the bytes).

        Raises:
            NotFound: No such bucket, key or version.
        """
        check_key(key)
        return self._get(key, 0, None, version_id)

    def _get(self, key: str, offset: int, length: int | None, version_id: str | None) -> Fetched:
        def read() -> Fetched:
            response = self.client.get_object(
                self.bucket, key, offset=offset, length=length or 0, version_id=version_id
            )
            try:
                recorded = response.headers.get(f"x-amz-meta-{CHECKSUM_META}")
                return Fetched(self.bucket, key, response.read(), recorded)
            finally:
                response.close()
                response.release_conn()

        return self._call("GET", read, key=key)

    def stat(
        self, key: str, *, version_id: str | None = None, with_tags: bool = False
    ) -> ObjectInfo:
        """Size, ETag, content type, user metadata (and tags, if asked) of one object.

        Raises:
            NotFound: No such key or version (a HEAD on a missing bucket also says
                NoSuchKey: HEAD responses carry no error body to tell them apart).
        """
        check_key(key)
        obj = self._call(
            "HEAD",
            lambda: self.client.stat_object(self.bucket, key, version_id=version_id),
            key=key,
        )
        tags = self.get_tags(key, version_id=version_id) if with_tags else None
        return object_info(obj, tags=tags)

    def exists(self, key: str) -> bool:
        """True if `key` exists (and, in a versioned bucket, is not deleted)."""
        return self._stat_or_none(key) is not None

    def _stat_or_none(self, key: str) -> ObjectInfo | None:
        try:
            return self.stat(key)
        except NotFound:
            return None

    # -- copy, move, delete --------------------------------------------------------------
    def copy(self, src_key: str, dst_key: str, *, if_match: str | None = None) -> ObjectInfo:
        """Server-side copy, metadata included (up to 5 GiB, S3's single-copy limit).

        Args:
            if_match: copy only if the source's ETag is still this one.

        Raises:
            Conflict: `if_match` was given and the source has changed since.
        """
        check_key(src_key)
        check_key(dst_key)
        source = CopySource(self.bucket, src_key, match_etag=if_match)
        self._call(
            "copy", lambda: self.client.copy_object(self.bucket, dst_key, source), key=src_key
        )
        return self.stat(dst_key)

    def delete_if_match(self, key: str, etag: str) -> None:
        """Delete `key` only while its ETag is `etag` (an S3 conditional DELETE).

        Raises:
            Conflict: the object was replaced meanwhile (a newer upload): it is left alone.
            NotFound: the object is gone.
        """
        check_key(key)
        self.stat(key)  # a missing key is NotFound, not a silent 204
        quoted = etag if etag.startswith('"') else f'"{etag}"'
        self._call(
            "DELETE",
            lambda: self.client._execute(  # the SDK has no conditional delete
                "DELETE", self.bucket, key, headers={"If-Match": quoted}
            ),
            key=key,
        )

    def move(self, src_key: str, dst_key: str, *, if_match: str | None = None) -> ObjectInfo:
        """Move an object within the bucket: the version at `src_key` now, or `if_match`'s.

        Where the store has S3's RenameObject (SeaweedFS, AWS directory buckets) this is one
        atomic rename on the server, whatever the object's size: no byte is copied. Where it
        has not (MinIO, AWS general-purpose buckets, versioned SeaweedFS buckets), a copy,
        then a delete of the source that is conditional on the version moved: the bytes
        exist at `dst_key` before they leave `src_key`, and a newer upload to `src_key`
        arriving meanwhile stays. Which way a bucket takes is found on its first move.

        Raises:
            Conflict: `if_match` was given and the source is another version now.
            NotFound: no object at `src_key`.
        """
        check_key(src_key)
        check_key(dst_key)
        etag = if_match or self.stat(src_key).etag
        if _RENAMES.get(self._where(), True):
            moved = self._rename(src_key, dst_key, etag)
            if moved is not None:
                return moved
        self.copy(src_key, dst_key, if_match=etag)
        try:
            self.delete_if_match(src_key, etag)
        except (Conflict, NotFound):
            pass  # replaced or removed by someone else since the copy: theirs to keep
        return self.stat(dst_key)

    def _rename(self, src_key: str, dst_key: str, etag: str) -> ObjectInfo | None:
        """RenameObject, checked: the moved object; None where the store cannot rename."""
        quoted = etag if etag.startswith('"') else f'"{etag}"'
        headers: dict[str, str | list[str] | tuple[str]] = {
            "x-amz-rename-source": urllib.parse.quote(src_key, safe="/"),
            "x-amz-rename-source-if-match": quoted,
        }
        try:
            self._call(
                "rename",
                lambda: self.client._execute(  # the SDK has no RenameObject
                    "PUT", self.bucket, dst_key, headers=headers, query_params={"renameObject": ""}
                ),
                key=src_key,
            )
        except NotFound:
            moved = self._stat_or_none(dst_key)
            if moved is None or moved.etag != etag.strip('"'):
                raise
            return moved  # an earlier try of this rename succeeded; its answer was lost
        except StorageError as exc:
            if exc.code not in _NO_RENAME:
                raise
            _RENAMES[self._where()] = False
            return None
        moved = self._stat_or_none(dst_key)
        if (
            moved is None
            or moved.etag != etag.strip('"')
            or (moved.size == 0 and self._stat_or_none(src_key) is not None)
        ):
            # a store that took the request for something else (a PUT of nothing): not a
            # rename; the source is still there, and the copy overwrites what it wrote
            _RENAMES[self._where()] = False
            return None
        _RENAMES[self._where()] = True
        return moved

    def _where(self) -> tuple[str, str]:
        return (str(self.client._base_url.host), self.bucket)

    def delete(self, key: str, *, missing_ok: bool = False, version_id: str | None = None) -> None:
        """Delete one object (or, with `version_id`, one version for good).

        S3 answers a DELETE of a missing key with 204 as if it had worked. So that a typo
        does not pass silently, this checks first and raises NotFound, unless `missing_ok`.

        Raises:
            NotFound: The key (or version) does not exist and `missing_ok` is False.
        """
        check_key(key)
        if not missing_ok:
            self.stat(key, version_id=version_id)
        self._call(
            "DELETE",
            lambda: self.client.remove_object(self.bucket, key, version_id=version_id),
            key=key,
        )

    def delete_many(self, keys: Iterable[str]) -> builtins.list[str]:
        """Delete many keys in batched requests (1000 per request); missing keys are no-ops.

        Returns:
            The keys asked for, in order.

        Raises:
            AccessDenied: Every failure was a permission refusal.
            StorageError: Some keys could not be deleted; the message lists them.
        """
        wanted = builtins.list(keys)
        for key in wanted:
            check_key(key)

        def remove() -> builtins.list[tuple[str, str]]:
            doomed = [DeleteObject(key) for key in wanted]
            errors = self.client.remove_objects(self.bucket, doomed)
            return [(e.name or "?", e.code) for e in errors]

        failed = self._call("bulk DELETE", remove, key=wanted[0] if wanted else None)
        if failed:
            listed = ", ".join(f"{name} ({code})" for name, code in failed[:5])
            cls = AccessDenied if all(code == "AccessDenied" for _, code in failed) else None
            message = f"{len(failed)} of {len(wanted)} deletions failed: {listed}"
            raise (cls or StorageError)(message, bucket=self.bucket)
        return wanted

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (which must not be empty). Returns the count."""
        if not prefix:
            raise ValueError("refusing to delete the whole bucket: give a non-empty prefix")
        keys = [info.key for info in self.list(prefix, recursive=True)]
        for start in range(0, len(keys), 1000):
            self.delete_many(keys[start : start + 1000])
        return len(keys)


def minio_options(settings: Settings) -> dict[str, Any]:
    """The minio SDK's arguments for the store."""
    return {
        "endpoint": settings.host,
        "access_key": settings.access_key,
        "secret_key": settings.secret_key,
        "secure": settings.secure,
        "region": settings.s3_region,
    }
