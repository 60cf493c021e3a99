"""Names and keys are checked before any request: no server is needed to refuse them."""

from __future__ import annotations

import pytest

from data_platform.storage import InvalidName, ObjectStore, RetryPolicy, Unavailable
from data_platform.storage.names import (
    check_bucket_name,
    check_key,
    check_metadata,
    check_part_size,
)


@pytest.mark.parametrize(
    "name",
    ["", "ab", "A-bucket", "under_score", "-lead", "trail-", "a..b", "192.168.1.1", "x" * 64],
)
def test_invalid_bucket_names_are_rejected(name):
    with pytest.raises(InvalidName, match="invalid bucket name"):
        check_bucket_name(name)


@pytest.mark.parametrize("name", ["lake", "t-0123abcd", "my.bucket.1", "a" * 63])
def test_valid_bucket_names_pass(name):
    check_bucket_name(name)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("/etc/passwd", "leading '/'"),
        ("../escape", "'..' segment"),
        ("a/../../b", "'..' segment"),
        ("a/..", "'..' segment"),
        ("line\nbreak", "control character"),
        ("nul\x00byte", "control character"),
        ("tab\there", "control character"),
        ("del\x7f", "control character"),
        ("k" * 1025, "too long"),
    ],
)
def test_unsafe_keys_are_rejected(key, reason):
    with pytest.raises(InvalidName, match=reason):
        check_key(key)


@pytest.mark.parametrize("key", ["a", "a/b/c.parquet", "dots..inside/x", "..hidden", "ünïcode/k"])
def test_safe_keys_pass(key):
    check_key(key)


def test_invalid_name_is_also_a_value_error():
    with pytest.raises(ValueError, match="leading"):
        check_key("/abs")


@pytest.mark.parametrize("meta", [{"bad key": "v"}, {"k": "line\nbreak"}, {"k": "ünï"}])
def test_metadata_that_headers_cannot_carry_is_rejected(meta):
    with pytest.raises(InvalidName):
        check_metadata(meta)


@pytest.mark.parametrize("size", [0, 5 * 1024 * 1024 - 1, 5 * 1024**3 + 1])
def test_part_size_outside_s3_limits_is_rejected(size):
    with pytest.raises(ValueError, match="part size"):
        check_part_size(size)


def test_bad_names_fail_before_any_request(down_settings):
    """The server is down: an InvalidName (not Unavailable) proves no request was sent."""
    store = ObjectStore.from_settings(down_settings, retry=RetryPolicy(attempts=1))
    for call in (
        lambda: store.put_bytes("../x", b""),
        lambda: store.get_bytes("/abs"),
        lambda: store.stat("bad\rkey"),
        lambda: store.delete("a/../b"),
        lambda: store.copy("ok", "../bad"),
        lambda: store.presign_get("/abs"),
        lambda: list(store.list("../")),
        lambda: store.bucket_exists("Bad_Bucket"),
        lambda: store.put_bytes("k", b"", metadata={"sha256": "reserved"}),
    ):
        with pytest.raises(InvalidName):
            call()
    with pytest.raises(InvalidName):
        ObjectStore.from_settings(down_settings, bucket="NO")
    with pytest.raises(Unavailable):  # and a valid request does try the (dead) server
        store.stat("fine")
