"""`ObjectStore`: the platform's client for one bucket of an S3-compatible store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error

from data_platform.settings import Settings
from data_platform.storage.errors import NotFound, translate
from data_platform.storage.names import check_bucket_name, check_key


@dataclass(frozen=True)
class ObjectInfo:
    """What the store says about one object."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None


def _info(obj: Any) -> ObjectInfo:
    meta = {
        k.lower().removeprefix("x-amz-meta-"): v
        for k, v in (obj.metadata or {}).items()
        if k.lower().startswith("x-amz-meta-")
    }
    return ObjectInfo(
        key=obj.object_name,
        size=obj.size or 0,
        etag=(obj.etag or "").strip('"'),
        last_modified=obj.last_modified,
        content_type=obj.content_type,
        metadata=meta,
        version_id=obj.version_id,
    )


class ObjectStore:
    """CRUD on one bucket. Build it with `ObjectStore.from_settings(settings)`."""

    def __init__(self, client: Minio, bucket: str) -> None:
        check_bucket_name(bucket)
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings, bucket: str | None = None) -> ObjectStore:
        return cls(Minio(**settings.minio_kwargs()), bucket or settings.bucket)

    # -- buckets -------------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket) from exc

    # -- objects -------------------------------------------------------------------------
    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo:
        check_key(key)
        try:
            self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=metadata,
            )
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=key) from exc
        return self.stat(key)

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo:
        check_key(key)
        try:
            self.client.fput_object(
                self.bucket, key, str(path), content_type=content_type or "application/octet-stream"
            )
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=key) from exc
        return self.stat(key)

    def get_bytes(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=key) from exc

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        try:
            return _info(self.client.stat_object(self.bucket, key))
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=key) from exc

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def list(
        self, prefix: str = "", *, recursive: bool = True, start_after: str | None = None
    ) -> Iterator[ObjectInfo]:
        """Objects under `prefix`; the SDK follows continuation tokens (pagination)."""
        try:
            for obj in self.client.list_objects(
                self.bucket, prefix=prefix, recursive=recursive, start_after=start_after
            ):
                yield _info(obj)
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=prefix) from exc

    def copy(self, src_key: str, dst_key: str) -> ObjectInfo:
        check_key(src_key)
        check_key(dst_key)
        try:
            self.client.copy_object(self.bucket, dst_key, CopySource(self.bucket, src_key))
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=src_key) from exc
        return self.stat(dst_key)

    def move(self, src_key: str, dst_key: str) -> ObjectInfo:
        """Copy then delete: the bytes exist at `dst_key` before they leave `src_key`."""
        info = self.copy(src_key, dst_key)
        self.delete(src_key)
        return info

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.remove_object(self.bucket, key)
        except S3Error as exc:
            raise translate(exc, bucket=self.bucket, key=key) from exc
