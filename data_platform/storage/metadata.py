"""Metadata and tags of existing objects, changed in place.

S3 has no "update metadata" call: the object is copied onto itself with the REPLACE
directive. The bytes, the ETag and the tags stay; the recorded checksum is carried over.
"""

from __future__ import annotations

from minio.commonconfig import REPLACE, CopySource, Tags

from data_platform.storage.base import StoreBase
from data_platform.storage.checksum import upload_metadata
from data_platform.storage.errors import InvalidName
from data_platform.storage.models import ObjectInfo, object_info
from data_platform.storage.names import check_key

_MAX_TAGS = 10


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > _MAX_TAGS:
        raise InvalidName(f"too many tags ({len(tags)} > {_MAX_TAGS})")
    for name, value in tags.items():
        if not name or len(name) > 128 or len(value) > 256:
            raise InvalidName(f"invalid tag {name!r}: key 1-128, value 0-256 characters")


class MetadataMixin(StoreBase):
    """In-place metadata and tag changes of `ObjectStore`."""

    def update_metadata(
        self,
        key: str,
        metadata: dict[str, str],
        *,
        content_type: str | None = None,
        merge: bool = False,
    ) -> ObjectInfo:
        """Replace the user metadata (and optionally the content type) of an object.

        Args:
            key: The object.
            metadata: The new user metadata.
            content_type: A new Content-Type; the current one is kept when None.
            merge: Keep current entries that `metadata` does not name.

        Returns:
            The object's info after the change.
        """
        check_key(key)
        current = object_info(
            self._call("HEAD", lambda: self.client.stat_object(self.bucket, key), key=key)
        )
        wanted = {**current.metadata, **metadata} if merge else dict(metadata)
        return self._rewrite_metadata(
            key, wanted, content_type or current.content_type, checksum=current.checksum
        )

    def _rewrite_metadata(
        self, key: str, metadata: dict[str, str], content_type: str | None, *, checksum: str | None
    ) -> ObjectInfo:
        headers = upload_metadata(metadata, checksum)
        headers["Content-Type"] = content_type or "binary/octet-stream"
        self._call(
            "copy",
            lambda: self.client.copy_object(
                self.bucket,
                key,
                CopySource(self.bucket, key),
                metadata=headers,  # type: ignore[arg-type]
                metadata_directive=REPLACE,
            ),
            key=key,
        )
        return object_info(
            self._call("HEAD", lambda: self.client.stat_object(self.bucket, key), key=key)
        )

    def get_tags(self, key: str, *, version_id: str | None = None) -> dict[str, str]:
        """The object's tags ({} when it has none)."""
        check_key(key)
        tags = self._call(
            "get tags",
            lambda: self.client.get_object_tags(self.bucket, key, version_id=version_id),
            key=key,
        )
        return dict(tags or {})

    def set_tags(self, key: str, tags: dict[str, str]) -> None:
        """Replace the object's tags with `tags` (S3 allows at most 10)."""
        check_key(key)
        _check_tags(tags)
        value = Tags.new_object_tags()
        value.update(tags)
        self._call(
            "set tags", lambda: self.client.set_object_tags(self.bucket, key, value), key=key
        )

    def delete_tags(self, key: str) -> None:
        """Remove every tag of the object."""
        check_key(key)
        self._call("delete tags", lambda: self.client.delete_object_tags(self.bucket, key), key=key)
