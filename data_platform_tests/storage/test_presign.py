"""Presigned URLs work over plain HTTP (urllib), and fail once expired or tampered with."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def _refusal(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="PUT" if data else "GET")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    return refused.value.code, refused.value.read().decode()


def test_presigned_get_downloads_without_credentials(store: ObjectStore):
    store.put_bytes("share/report.txt", b"quarterly numbers")
    url = store.presign_get("share/report.txt", expires=60)
    assert "X-Amz-Signature=" in url
    assert _get(url) == b"quarterly numbers"


def test_presigned_put_uploads_without_credentials(store: ObjectStore):
    url = store.presign_put("inbox/upload.bin", expires=60)
    request = urllib.request.Request(url, data=b"from a browser", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert store.get_bytes("inbox/upload.bin") == b"from a browser"
    assert store.stat("inbox/upload.bin").checksum is None  # the client never saw the bytes


def test_presigned_url_fails_after_expiry(store: ObjectStore):
    store.put_bytes("short", b"x")
    url = store.presign_get("short", expires=1)
    assert _get(url) == b"x"
    time.sleep(2.2)
    status, body = _refusal(url)
    assert status == 403
    assert "expired" in body.lower()


def test_tampered_presigned_urls_are_refused(store: ObjectStore):
    store.put_bytes("public", b"ok")
    store.put_bytes("secret", b"no")
    url = store.presign_get("public", expires=60)
    assert _refusal(url.replace("/public?", "/secret?"))[0] == 403  # another key
    assert _refusal(url[:-4] + ("0000" if not url.endswith("0000") else "1111"))[0] == 403
    assert _refusal(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"))[0] == 403
    put_url = store.presign_put("inbox/x", expires=60)
    assert _refusal(put_url.replace("/inbox/x?", "/inbox/y?"), data=b"z")[0] == 403
    assert not store.exists("inbox/y")


def test_presigned_get_can_pin_a_version(store: ObjectStore):
    store.set_versioning(True)
    old = store.put_bytes("v", b"old")
    store.put_bytes("v", b"new")
    assert _get(store.presign_get("v", expires=60, version_id=old.version_id)) == b"old"


@pytest.mark.parametrize("expires", [0, -5, 7 * 24 * 3600 + 1])
def test_expiry_outside_limits_is_rejected(store: ObjectStore, expires):
    with pytest.raises(ValueError, match="expiry"):
        store.presign_get("k", expires=expires)
