"""Listings return every key exactly once, whatever order the store lists in.

SeaweedFS (the embedded store) lists folder by folder, not in S3's byte order: keys under
``2026-11-b/`` and ``2026-11.1/`` come after ``2026-11/`` although ``-`` and ``.`` sort
before ``/``. A listing that skips keys "<= the last one yielded" loses them silently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3

from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration

# folder names that interleave with `2026-11/` in byte order but not in SeaweedFS's order
FOLDERS = ("2026-11", "2026-11-b", "2026-11.1", "2026 11", "2026-11/sub", "2026-110")


def _put_all(store: ObjectStore, keys: list[str]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.put_bytes(k, b"x"), keys))


def test_sibling_folders_that_sort_before_a_folder_are_listed(store: ObjectStore):
    keys = ["t/2026-11/a.csv", "t/2026-11-b/b.csv", "t/2026-11.1/c.csv", "t/2026-11/z.csv"]
    for key in keys:
        store.put_bytes(key, b"x")
    assert sorted(o.key for o in store.list("t/", recursive=True)) == sorted(keys)


@pytest.fixture
def many_keys(store: ObjectStore) -> list[str]:
    """More than one 1000-key page, spread over interleaving folders."""
    keys = [f"m/{folder}/{i:04d}.csv" for folder in FOLDERS for i in range(190)]
    _put_all(store, keys)
    return keys


def test_every_key_once_across_pages(store: ObjectStore, many_keys: list[str]):
    listed = [o.key for o in store.list("m/", recursive=True)]
    assert len(listed) == len(many_keys) == 1140
    assert sorted(listed) == sorted(many_keys)


def test_list_page_walks_interleaving_folders_completely(store: ObjectStore, many_keys):
    walked, start, pages = [], None, 0
    while True:
        page = store.list_page("m/", limit=250, start_after=start)
        walked += [item.key for item in page.items]
        pages += 1
        if page.is_last:
            break
        start = page.next_start_after
    assert pages == 5
    assert sorted(walked) == sorted(many_keys)


def test_delete_prefix_leaves_nothing_behind(store: ObjectStore, many_keys):
    store.delete_prefix("m/")
    assert list(store.list("m/", recursive=True)) == []


def test_a_resume_after_a_transient_error_loses_and_repeats_nothing(
    store: ObjectStore, many_keys: list[str]
):
    """The connection breaks twice mid-listing (fault injected into the SDK's generator;
    the server and its listing are real); the listing resumes and completes."""
    real = store.client.list_objects
    breaks = iter([333, 700])  # break after this many keys, on the 1st and 2nd call

    def flaky(*args, **kwargs):
        limit = next(breaks, None)
        for sent, obj in enumerate(real(*args, **kwargs)):
            if limit is not None and sent == limit:
                raise urllib3.exceptions.ProtocolError("connection reset mid-listing")
            yield obj

    store.client.list_objects = flaky
    listed = [o.key for o in store.list("m/", recursive=True)]
    assert len(listed) == len(set(listed)) == len(many_keys)
    assert sorted(listed) == sorted(many_keys)
