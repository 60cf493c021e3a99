"""Object CRUD against the real S3 server: put, get, stat, list, copy, move, delete."""

from __future__ import annotations

import hashlib
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from data_platform.storage import Conflict, IntegrityError, NotFound, ObjectStore, StorageError

pytestmark = pytest.mark.integration


def test_put_and_get_bytes_round_trip(store: ObjectStore):
    data = b"review_id,text\n1,great\n"
    info = store.put_bytes("raw/a.csv", data, content_type="text/csv", metadata={"Source": "t"})
    assert store.get_bytes("raw/a.csv") == data
    assert info.key == "raw/a.csv"
    assert info.size == len(data)
    assert info.etag == hashlib.md5(data).hexdigest()  # S3's single-part ETag
    assert info.content_type == "text/csv"
    assert info.metadata == {"source": "t"}  # keys come back lower-cased
    assert info.checksum == hashlib.sha256(data).hexdigest()
    assert info.last_modified is not None


def test_put_replaces_an_existing_object(store: ObjectStore):
    store.put_bytes("k", b"old")
    store.put_bytes("k", b"new")
    assert store.get_bytes("k") == b"new"


def test_ranged_get(store: ObjectStore):
    store.put_bytes("digits", b"0123456789")
    assert store.get_bytes("digits", offset=3, length=4) == b"3456"
    assert store.get_bytes("digits", offset=7) == b"789"
    with pytest.raises(ValueError, match="offset"):
        store.get_bytes("digits", offset=-1)
    with pytest.raises(StorageError, match="InvalidRange"):
        store.get_bytes("digits", offset=50, length=2)


def test_stat_reports_size_etag_type_metadata_and_tags(store: ObjectStore):
    store.put_bytes("doc.json", b"{}", content_type="application/json", metadata={"team": "ml"})
    store.set_tags("doc.json", {"stage": "raw", "pii": "no"})
    info = store.stat("doc.json", with_tags=True)
    assert (info.size, info.content_type, info.metadata) == (2, "application/json", {"team": "ml"})
    assert info.tags == {"stage": "raw", "pii": "no"}
    assert store.stat("doc.json").tags is None  # tags cost a request: only when asked


def test_exists(store: ObjectStore):
    store.put_bytes("here", b"x")
    assert store.exists("here")
    assert not store.exists("not-here")


def test_missing_object_and_missing_bucket_raise_not_found(store: ObjectStore):
    with pytest.raises(NotFound, match="NoSuchKey") as missing:
        store.get_bytes("nope/x.bin")
    assert missing.value.bucket == store.bucket
    assert missing.value.key == "nope/x.bin"
    assert f"s3://{store.bucket}/nope/x.bin" in str(missing.value)
    with pytest.raises(NotFound):
        store.stat("nope/x.bin")
    gone = store.for_bucket("no-such-bucket-dp")
    with pytest.raises(NotFound, match="bucket 'no-such-bucket-dp' does not exist"):
        gone.get_bytes("k")
    with pytest.raises(NotFound, match="NoSuchBucket"):
        list(gone.list())
    with pytest.raises(NotFound, match="NoSuchBucket"):
        gone.delete("k", missing_ok=True)


def test_seaweedfs_creates_a_missing_bucket_on_put(store: ObjectStore):
    """A server difference, pinned so it is known: AWS and MinIO answer NoSuchBucket here."""
    other = store.for_bucket(f"{store.bucket}-implicit")
    assert not other.bucket_exists()
    other.put_bytes("k", b"x")
    assert other.bucket_exists()
    other.delete_bucket(force=True)
    assert not other.bucket_exists()


def _fill(store: ObjectStore, keys: list[str]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.put_bytes(k, k.encode()), keys))


def test_list_by_prefix_recursive_or_one_level(store: ObjectStore):
    _fill(store, ["a/1", "a/2", "a/sub/3", "b/4", "top"])
    assert [i.key for i in store.list()] == ["a/1", "a/2", "a/sub/3", "b/4", "top"]
    assert [i.key for i in store.list("a/")] == ["a/1", "a/2", "a/sub/3"]
    level = list(store.list("a/", recursive=False))
    assert [(i.key, i.is_prefix) for i in level] == [
        ("a/1", False),
        ("a/2", False),
        ("a/sub/", True),
    ]
    root = [(i.key, i.is_prefix) for i in store.list(recursive=False)]
    assert root == [("a/", True), ("b/", True), ("top", False)]  # sorted, prefixes merged in
    assert [i.key for i in store.list(start_after="a/2")] == ["a/sub/3", "b/4", "top"]
    assert all(i.size == len(i.key) for i in store.list())


def test_list_page_walks_every_key_once(store: ObjectStore):
    keys = [f"p/{i:02d}" for i in range(7)]
    _fill(store, keys)
    seen, cursor, pages = [], None, 0
    while True:
        page = store.list_page("p/", limit=3, start_after=cursor)
        pages += 1
        seen += [i.key for i in page.items]
        if page.is_last:
            break
        cursor = page.next_start_after
    assert (seen, pages) == (keys, 3)


@pytest.mark.slow
def test_listing_and_bulk_delete_cross_the_1000_key_page(store: ObjectStore):
    keys = [f"many/{i:05d}" for i in range(1005)]
    _fill(store, keys)
    assert [i.key for i in store.list("many/")] == keys  # two server pages, one stream
    page = store.list_page("many/", limit=1000)
    assert len(page.items) == 1000
    assert page.next_start_after == "many/00999"
    assert store.delete_prefix("many/") == 1005  # two bulk requests
    assert list(store.list("many/")) == []


def test_copy_keeps_bytes_and_metadata(store: ObjectStore):
    store.put_bytes("src", b"payload", content_type="text/plain", metadata={"owner": "me"})
    copied = store.copy("src", "dst/copy")
    assert store.get_bytes("dst/copy") == b"payload"
    assert (copied.content_type, copied.metadata) == ("text/plain", {"owner": "me"})
    assert store.exists("src")
    with pytest.raises(NotFound):
        store.copy("missing", "dst/other")


def test_move(store: ObjectStore):
    store.put_bytes("from", b"m")
    store.move("from", "to")
    assert not store.exists("from")
    assert store.get_bytes("to") == b"m"


def test_move_is_a_rename_on_the_server_where_the_store_has_one(store: ObjectStore):
    """SeaweedFS has S3's RenameObject: the object moves whole, nothing is copied (a copy
    would be a new object, with a new time)."""
    before = store.put_bytes("landing/up.csv", b"a,b\n1,2\n", metadata={"owner": "me"})
    time.sleep(1.1)  # S3 times have whole seconds
    moved = store.move("landing/up.csv", "archive/up.csv", if_match=before.etag)
    assert not store.exists("landing/up.csv")
    assert store.get_bytes("archive/up.csv") == b"a,b\n1,2\n"
    assert (moved.etag, moved.metadata, moved.checksum) == (
        before.etag,
        {"owner": "me"},
        before.checksum,
    )
    assert moved.last_modified == before.last_modified


def test_move_of_a_version_that_was_replaced_is_refused(store: ObjectStore):
    old = store.put_bytes("landing/up.csv", b"old")
    store.put_bytes("landing/up.csv", b"newer upload")
    with pytest.raises(Conflict):
        store.move("landing/up.csv", "archive/up.csv", if_match=old.etag)
    assert store.get_bytes("landing/up.csv") == b"newer upload"
    assert not store.exists("archive/up.csv")


def test_move_copies_where_the_bucket_cannot_rename(store: ObjectStore):
    """A versioned SeaweedFS bucket answers RenameObject with NotImplemented: copy, then a
    delete of the moved version."""
    versioned = store.for_bucket(f"{store.bucket}-v")
    versioned.ensure_bucket()
    versioned.set_versioning(True)
    put = versioned.put_bytes("landing/up.csv", b"payload")
    moved = versioned.move("landing/up.csv", "archive/up.csv", if_match=put.etag)
    assert moved.etag == put.etag
    assert versioned.get_bytes("archive/up.csv") == b"payload"
    assert not versioned.exists("landing/up.csv")
    again = versioned.put_bytes("landing/up.csv", b"again")
    versioned.move("landing/up.csv", "archive/up.csv", if_match=again.etag)
    assert versioned.get_bytes("archive/up.csv") == b"again"


def test_update_metadata_in_place(store: ObjectStore):
    store.put_bytes("m", b"same bytes", content_type="text/plain", metadata={"a": "1", "b": "2"})
    store.set_tags("m", {"t": "kept"})
    before = store.stat("m")
    replaced = store.update_metadata("m", {"a": "9"})
    assert replaced.metadata == {"a": "9"}
    assert replaced.content_type == "text/plain"
    merged = store.update_metadata("m", {"c": "3"}, content_type="text/csv", merge=True)
    assert merged.metadata == {"a": "9", "c": "3"}
    assert merged.content_type == "text/csv"
    assert store.get_bytes("m") == b"same bytes"  # checksum still verified on read
    assert (merged.etag, merged.checksum) == (before.etag, before.checksum)
    assert store.get_tags("m") == {"t": "kept"}


def test_tags_set_replace_delete(store: ObjectStore):
    store.put_bytes("t", b"x")
    assert store.get_tags("t") == {}
    store.set_tags("t", {"a": "1", "b": "2"})
    store.set_tags("t", {"c": "3"})
    assert store.get_tags("t") == {"c": "3"}
    store.delete_tags("t")
    assert store.get_tags("t") == {}


def test_delete_one(store: ObjectStore):
    store.put_bytes("d", b"x")
    store.delete("d")
    assert not store.exists("d")


def test_delete_missing_raises_unless_missing_ok(store: ObjectStore):
    """S3 answers DELETE of a missing key with 204; the client checks and says NotFound."""
    with pytest.raises(NotFound, match=f"s3://{store.bucket}/ghost"):
        store.delete("ghost")
    store.delete("ghost", missing_ok=True)  # the S3 behaviour, on request
    # the raw SDK confirms what the server does: a silent no-op
    store.client.remove_object(store.bucket, "ghost")


def test_delete_many(store: ObjectStore):
    _fill(store, ["x/1", "x/2", "x/3", "keep"])
    assert store.delete_many(["x/1", "x/2", "x/3", "x/never-existed"]) == [
        "x/1",
        "x/2",
        "x/3",
        "x/never-existed",
    ]
    assert [i.key for i in store.list()] == ["keep"]
    assert store.delete_many([]) == []


def test_delete_prefix_refuses_the_whole_bucket(store: ObjectStore):
    with pytest.raises(ValueError, match="whole bucket"):
        store.delete_prefix("")


def test_corrupted_object_fails_the_integrity_check(store: ObjectStore, tmp_path):
    """Bytes written behind the client's back with a wrong recorded checksum are caught."""
    wrong = "0" * 64
    store.client.put_object(store.bucket, "bad", io.BytesIO(b"data"), 4, metadata={"sha256": wrong})
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        store.get_bytes("bad")
    assert store.get_bytes("bad", offset=0, length=4) == b"data"  # ranges are not checked
    with pytest.raises(IntegrityError):
        store.get_file("bad", tmp_path / "bad.bin")
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .part is left
