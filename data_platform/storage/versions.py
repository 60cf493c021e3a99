"""Versions in a versioned bucket: list them, read one, restore one.

Reading a given version is `get_bytes(key, version_id=...)` / `stat(key, version_id=...)`;
deleting one for good is `delete(key, version_id=...)`.
"""

from __future__ import annotations

from collections.abc import Iterator

from minio.commonconfig import CopySource

from data_platform.storage.base import StoreBase
from data_platform.storage.models import ObjectInfo, ObjectVersion, object_info, object_version
from data_platform.storage.names import check_key, check_prefix


def _newest_first(version: ObjectVersion) -> tuple[str, bool, float]:
    stamp = version.last_modified.timestamp() if version.last_modified else 0.0
    return (version.key, not version.is_latest, -stamp)


class VersionsMixin(StoreBase):
    """Version history of `ObjectStore`."""

    def list_versions(self, prefix: str = "") -> Iterator[ObjectVersion]:
        """Every version and delete marker under `prefix`: by key, newest first per key.

        The listing is fetched whole before the first item is returned, so a transient
        error can be retried without repeating or skipping entries.
        """
        check_prefix(prefix)

        def fetch() -> list[ObjectVersion]:
            listing = self.client.list_objects(
                self.bucket, prefix=prefix, recursive=True, include_version=True
            )
            return [object_version(obj) for obj in listing]

        found = self._call("list versions", fetch, key=prefix or None)
        # Servers differ in the order within a key (SeaweedFS lists a new delete marker
        # last): put the latest first, then newer before older; ties keep server order.
        yield from sorted(found, key=_newest_first)

    def versions(self, key: str) -> list[ObjectVersion]:
        """The versions of exactly `key`, newest first (delete markers included)."""
        check_key(key)
        return [v for v in self.list_versions(key) if v.key == key]

    def restore_version(self, key: str, version_id: str) -> ObjectInfo:
        """Make an old version the current one again (a server-side copy onto `key`)."""
        check_key(key)
        self._call(
            "copy",
            lambda: self.client.copy_object(
                self.bucket, key, CopySource(self.bucket, key, version_id=version_id)
            ),
            key=key,
        )
        return object_info(
            self._call("HEAD", lambda: self.client.stat_object(self.bucket, key), key=key)
        )
