"""Listing objects by prefix: recursive or one level, from a start key, page by page.

S3 returns at most 1000 keys per request; the SDK follows continuation tokens, and
`list_page` cuts the stream into pages a caller (or the CLI) can resume from.

Never assume a listing is sorted. MinIO and AWS return keys in byte order, but SeaweedFS
walks folder by folder (``a/2026-11/x`` before ``a/2026-11-b/y``, although ``-`` sorts
before ``/``). Every store continues a listing after ``start_after`` in *its own* order,
so resuming from the last key yielded is complete; comparing keys with ``<=`` is not.
"""

from __future__ import annotations

import builtins
import itertools
import time
from collections.abc import Iterator

from data_platform.storage.base import SDK_ERRORS, StoreBase
from data_platform.storage.errors import Unavailable, translate
from data_platform.storage.models import ListPage, ObjectInfo, object_info
from data_platform.storage.names import check_prefix
from data_platform.storage.retry import is_transient


class ListingMixin(StoreBase):
    """Listings of `ObjectStore`."""

    def list(
        self, prefix: str = "", *, recursive: bool = True, start_after: str | None = None
    ) -> Iterator[ObjectInfo]:
        """Objects under `prefix`, each exactly once, across as many pages as it takes.

        The order is the store's (byte order on MinIO and AWS, folder by folder on
        SeaweedFS). A recursive listing streams, and a transient error mid-way resumes
        after the last key yielded (within the retry policy); a key the store sends again
        after a resume is not yielded twice. A non-recursive listing also yields the
        common prefixes one level down (``is_prefix=True``); S3 returns those apart from
        the objects of each page, so that level is fetched whole and sorted first.
        """
        check_prefix(prefix)
        if not recursive:
            yield from self._one_level(prefix, start_after)
            return
        last = start_after
        seen: set[str] = set()  # not `<= last`: a store's order need not be byte order
        failures = 0
        streak_start = 0.0
        while True:
            try:
                for obj in self.client.list_objects(
                    self.bucket, prefix=prefix, recursive=recursive, start_after=last
                ):
                    if obj.object_name in seen:
                        continue  # sent again after a resume
                    seen.add(obj.object_name)
                    last = obj.object_name
                    failures = 0
                    yield object_info(obj)
                return
            except SDK_ERRORS as exc:
                if not is_transient(exc):
                    raise translate(exc, bucket=self.bucket, key=prefix) from exc
                if failures == 0:
                    streak_start = time.monotonic()
                failures += 1
                wait = self.retry.delay(failures)
                elapsed = time.monotonic() - streak_start
                if failures >= self.retry.attempts or elapsed + wait > self.retry.deadline_s:
                    raise Unavailable(
                        f"list failed: gave up after {failures} attempt(s) in {elapsed:.1f}s "
                        f"(last error: {type(exc).__name__}: {exc})",
                        bucket=self.bucket,
                        key=prefix or None,
                    ) from exc
                time.sleep(wait)

    def _one_level(self, prefix: str, start_after: str | None) -> builtins.list[ObjectInfo]:
        def fetch() -> builtins.list[ObjectInfo]:
            listing = self.client.list_objects(
                self.bucket, prefix=prefix, recursive=False, start_after=start_after
            )
            return sorted((object_info(obj) for obj in listing), key=lambda info: info.key)

        return self._call("list", fetch, key=prefix or None)

    def list_page(
        self,
        prefix: str = "",
        *,
        limit: int = 1000,
        start_after: str | None = None,
        recursive: bool = True,
    ) -> ListPage:
        """At most `limit` entries after `start_after`; `next_start_after` continues."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        items = tuple(
            itertools.islice(
                self.list(prefix, recursive=recursive, start_after=start_after), limit + 1
            )
        )
        if len(items) <= limit:
            return ListPage(items=items, next_start_after=None)
        return ListPage(items=items[:limit], next_start_after=items[limit - 1].key)
