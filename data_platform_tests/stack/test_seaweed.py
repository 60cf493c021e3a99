"""The embedded S3 server: enforced credentials, restart keeps data and keys."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from data_platform.stack.process import pid_alive
from data_platform.stack.seaweed import EmbeddedS3

pytestmark = pytest.mark.integration


def _client(endpoint: str, access: str, secret: str) -> Minio:
    return Minio(endpoint.removeprefix("http://"), access, secret, secure=False, region="us-east-1")


def test_server_enforces_identities(s3_server):
    admin = _client(s3_server.endpoint, s3_server.access_key, s3_server.secret_key)
    reader = _client(
        s3_server.endpoint, s3_server.readonly_access_key, s3_server.readonly_secret_key
    )
    stranger = _client(s3_server.endpoint, s3_server.access_key, "wrong-secret-0000000000")
    admin.put_object("lake", "probe.txt", io.BytesIO(b"hello"), 5)
    assert reader.get_object("lake", "probe.txt").read() == b"hello"
    with pytest.raises(S3Error) as denied:
        reader.put_object("lake", "nope.txt", io.BytesIO(b"x"), 1)
    assert denied.value.code == "AccessDenied"
    with pytest.raises(S3Error) as bad_key:
        stranger.get_object("lake", "probe.txt")
    assert bad_key.value.code in {"SignatureDoesNotMatch", "AccessDenied"}


def _listen_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(addr)
    return found


def test_binds_loopback_only(s3_server):
    assert s3_server.endpoint.startswith("http://127.0.0.1:")
    for offset in range(4):  # s3, master, volume, filer
        addresses = _listen_addresses(s3_server.port_base + offset)
        assert addresses == {"0100007F"}, f"port base+{offset} listens on {addresses}"


def test_restart_keeps_objects_and_keys(tmp_path):
    stack = EmbeddedS3(tmp_path / "stack")
    first = stack.up()
    try:
        _client(first.endpoint, first.access_key, first.secret_key).put_object(
            "lake", "kept.txt", io.BytesIO(b"still here"), 10
        )
        assert stack.up() == first  # idempotent while running
        assert stack.down() is True
        assert not pid_alive(first.pid)
        assert stack.state() is None
        second = stack.up()
        assert (second.access_key, second.secret_key) == (first.access_key, first.secret_key)
        client = _client(second.endpoint, second.access_key, second.secret_key)
        assert client.get_object("lake", "kept.txt").read() == b"still here"
    finally:
        stack.down()
    assert stack.down() is False
