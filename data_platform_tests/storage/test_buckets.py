"""Buckets against the real S3 server: create, exists, list, guarded delete, versioning."""

from __future__ import annotations

import pytest

from data_platform.storage import Conflict, InvalidName, NotFound, ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def spare(store: ObjectStore):
    """A second bucket name for this test, removed afterwards whatever happened."""
    other = store.for_bucket(f"{store.bucket}-spare")
    yield other
    if other.bucket_exists():
        other.delete_bucket(force=True)


def test_create_is_idempotent(spare: ObjectStore):
    assert not spare.bucket_exists()
    assert spare.ensure_bucket() is True
    assert spare.ensure_bucket() is False
    assert spare.bucket_exists()


def test_list_buckets(store: ObjectStore, spare: ObjectStore):
    spare.ensure_bucket()
    names = [b.name for b in store.list_buckets()]
    assert {store.bucket, spare.bucket} <= set(names)
    assert names == sorted(names)
    assert all(b.created is not None for b in store.list_buckets())


def test_delete_refuses_a_non_empty_bucket(spare: ObjectStore):
    spare.ensure_bucket()
    spare.put_bytes("keep/me", b"precious")
    with pytest.raises(Conflict, match="BucketNotEmpty") as refused:
        spare.delete_bucket()
    assert refused.value.bucket == spare.bucket
    assert f"s3://{spare.bucket}" in str(refused.value)
    assert spare.get_bytes("keep/me") == b"precious"  # nothing was touched


def test_delete_with_force_empties_then_deletes(spare: ObjectStore):
    spare.ensure_bucket()
    spare.put_bytes("a", b"1")
    spare.put_bytes("b/c", b"2")
    spare.delete_bucket(force=True)
    assert not spare.bucket_exists()


def test_delete_an_empty_bucket(spare: ObjectStore):
    spare.ensure_bucket()
    spare.delete_bucket()
    assert not spare.bucket_exists()


def test_delete_a_missing_bucket_is_not_found(spare: ObjectStore):
    with pytest.raises(NotFound, match=f"bucket '{spare.bucket}' does not exist"):
        spare.delete_bucket()


def test_bucket_argument_is_checked(store: ObjectStore):
    with pytest.raises(InvalidName):
        store.bucket_exists("Not_Valid")


def test_versioning_on_and_off(store: ObjectStore):
    assert store.versioning_enabled() is False
    store.set_versioning(True)
    assert store.versioning_enabled() is True
    store.set_versioning(False)
    assert store.versioning_enabled() is False  # suspended


def test_a_bucket_with_only_old_versions_is_not_empty(spare: ObjectStore):
    spare.ensure_bucket()
    spare.set_versioning(True)
    spare.put_bytes("v", b"1")
    spare.delete("v")  # leaves the old version and a delete marker
    assert list(spare.list()) == []
    with pytest.raises(Conflict):
        spare.delete_bucket()
    spare.delete_bucket(force=True)
    assert not spare.bucket_exists()
