"""Identities: the read-only key reads but may not write; wrong keys are AccessDenied."""

from __future__ import annotations

import pytest

from data_platform.ops.stack.seaweed import StackState
from data_platform.settings import Settings
from data_platform.storage import AccessDenied, ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def reader(analyst_settings: Settings) -> ObjectStore:
    return ObjectStore.from_settings(analyst_settings)


def _with_keys(settings: Settings, access: str, secret: str) -> ObjectStore:
    return ObjectStore.from_settings(
        Settings(
            home=settings.home,
            s3_endpoint=settings.s3_endpoint,
            s3_access_key=access,
            s3_secret_key=secret,
            bucket=settings.bucket,
        )
    )


def test_read_only_identity_reads_and_lists(store: ObjectStore, reader: ObjectStore):
    store.put_bytes("shared/a", b"readable")
    assert reader.get_bytes("shared/a") == b"readable"
    assert [i.key for i in reader.list("shared/")] == ["shared/a"]
    assert reader.stat("shared/a").size == 8


def test_read_only_identity_is_refused_writes(store: ObjectStore, reader: ObjectStore):
    store.put_bytes("shared/a", b"original")
    writes = {
        "put": lambda: reader.put_bytes("shared/b", b"x"),
        "delete": lambda: reader.delete("shared/a"),
        "delete_many": lambda: reader.delete_many(["shared/a"]),
        "copy": lambda: reader.copy("shared/a", "shared/c"),
        "metadata": lambda: reader.update_metadata("shared/a", {"x": "y"}),
        "tags": lambda: reader.set_tags("shared/a", {"x": "y"}),
        "bucket": lambda: reader.for_bucket(f"{store.bucket}-ro").ensure_bucket(),
    }
    for name, write in writes.items():
        with pytest.raises(AccessDenied, match="AccessDenied") as refused:
            write()
        assert refused.value.bucket is not None, name
        assert "read-only" in str(refused.value) or "deletions failed" in str(refused.value)
    assert store.get_bytes("shared/a") == b"original"
    assert [i.key for i in store.list()] == ["shared/a"]


def test_wrong_secret_key_is_access_denied_with_a_clear_message(
    settings: Settings, s3_server: StackState
):
    wrong = _with_keys(settings, s3_server.access_key, "not-the-secret-0000000000")
    with pytest.raises(AccessDenied, match="SignatureDoesNotMatch") as denied:
        wrong.get_bytes("anything")
    assert "check DP_S3_SECRET_KEY" in str(denied.value)
    assert f"s3://{settings.bucket}/anything" in str(denied.value)
    with pytest.raises(AccessDenied, match="credentials are wrong"):
        wrong.stat("anything")  # a HEAD has no error body: the hint names both causes


def test_unknown_access_key_is_access_denied(settings: Settings):
    stranger = _with_keys(settings, "nobody-knows-me", "whatever-secret-000")
    with pytest.raises(AccessDenied, match="check DP_S3_ACCESS_KEY"):
        list(stranger.list())
