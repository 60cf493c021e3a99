"""Versioning keeps old versions: list them, read one, restore one, delete one for good."""

from __future__ import annotations

import pytest

from data_platform.storage import NotFound, ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def versioned(store: ObjectStore) -> ObjectStore:
    store.set_versioning(True)
    return store


def test_versioning_keeps_old_versions(versioned: ObjectStore):
    first = versioned.put_bytes("doc", b"v1")
    second = versioned.put_bytes("doc", b"v2")
    assert first.version_id
    assert second.version_id
    assert first.version_id != second.version_id
    assert versioned.get_bytes("doc") == b"v2"
    assert versioned.get_bytes("doc", version_id=first.version_id) == b"v1"
    assert versioned.stat("doc", version_id=first.version_id).size == 2
    history = versioned.versions("doc")
    assert [v.version_id for v in history] == [second.version_id, first.version_id]
    assert [v.is_latest for v in history] == [True, False]


def test_delete_leaves_a_marker_and_old_versions_readable(versioned: ObjectStore):
    kept = versioned.put_bytes("gone", b"still here")
    versioned.delete("gone")
    assert not versioned.exists("gone")
    history = versioned.versions("gone")
    assert history[0].is_delete_marker
    assert history[0].is_latest
    assert [v.version_id for v in history[1:]] == [kept.version_id]
    assert versioned.get_bytes("gone", version_id=kept.version_id) == b"still here"


def test_restore_an_old_version(versioned: ObjectStore):
    old = versioned.put_bytes("cfg", b"good")
    versioned.put_bytes("cfg", b"broken")
    restored = versioned.restore_version("cfg", old.version_id or "")
    assert versioned.get_bytes("cfg") == b"good"
    assert len(versioned.versions("cfg")) == 3
    assert restored.checksum == old.checksum


def test_delete_one_version_for_good(versioned: ObjectStore):
    one = versioned.put_bytes("k", b"1")
    two = versioned.put_bytes("k", b"2")
    versioned.delete("k", version_id=one.version_id)
    assert [v.version_id for v in versioned.versions("k")] == [two.version_id]
    with pytest.raises(NotFound, match="NoSuchVersion"):
        versioned.get_bytes("k", version_id=one.version_id)
    with pytest.raises(NotFound):
        versioned.delete("k", version_id=one.version_id)


def test_list_versions_by_prefix(versioned: ObjectStore):
    versioned.put_bytes("p/a", b"1")
    versioned.put_bytes("p/a", b"2")
    versioned.put_bytes("p/b", b"3")
    versioned.put_bytes("q", b"4")
    found = list(versioned.list_versions("p/"))
    assert [v.key for v in found] == ["p/a", "p/a", "p/b"]
