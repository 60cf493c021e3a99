"""The embedded store has one door, S3 with keys: every other port refuses anonymous use.

SeaweedFS listens on more ports than S3's: the filer, master and volume HTTP ports, and
gRPC on each + 10000. With the platform's security.toml (JWT keys only the servers hold,
mutual TLS for gRPC and the master's HTTP port), `-disableHttp` and the unused components
off, none of them answers, serves or accepts anything without credentials.

The ports probed are the exact set the server is expected to open (named in `DOORS`), so
the test cannot pass by finding nothing to probe.
"""

from __future__ import annotations

import contextlib
import socket
import urllib.error
import urllib.request

import psutil
import pytest

from data_platform.ops.stack.process import wait_until
from data_platform.ops.stack.seaweed import GRPC_OFFSET, EmbeddedS3, StackState
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration
SECRET = b"account,balance\nalice,1000000\n"
# the HTTP ports `weed mini` opens, by offset from the port base (see EmbeddedS3._command);
# Iceberg REST (+4), WebDAV (+5) and Lance (+7) are turned off. Each also listens for gRPC.
DOORS = {"s3": 0, "master": 1, "volume": 2, "filer": 3, "admin": 6}


def _expected_ports(base: int) -> dict[int, str]:
    http = {base + offset: name for name, offset in DOORS.items()}
    return {**http, **{port + GRPC_OFFSET: f"{name} gRPC" for port, name in http.items()}}


def _try(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(4096)
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:
        return 0, b""  # refused or reset: not an HTTP door at all (gRPC)


def _speaks_plain_grpc(port: int) -> bool:
    """Does the port answer an HTTP/2 connection preface (gRPC) without TLS?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
            conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(9))
            reply = conn.recv(9)
    except OSError:
        return False
    return len(reply) >= 4 and reply[3] == 0x04  # a SETTINGS frame: plaintext HTTP/2


def _listening(state: StackState) -> list[int]:
    process = psutil.Process(state.pid)
    return sorted({c.laddr.port for c in process.net_connections() if c.status == "LISTEN"})


def test_only_the_s3_port_serves_objects(s3_stack: EmbeddedS3, s3_server: StackState, store):
    key = "private/accounts.csv"
    store.put_bytes(key, SECRET)
    bucket = store.bucket
    base = s3_server.port_base
    expected = _expected_ports(base)
    # every component is up once S3 reads back, but give a late listener a moment
    with contextlib.suppress(TimeoutError):  # the assert below names what is missing
        wait_until(lambda: set(expected) <= set(_listening(s3_server)), timeout=15)
    ports = _listening(s3_server)
    missing = [expected[port] for port in sorted(set(expected) - set(ports))]
    unexpected = sorted(set(ports) - set(expected))
    assert ports == sorted(expected), f"not listening: {missing}; unexpected: {unexpected}"
    side_doors = [port for port in ports if port != base]  # S3 itself: identities refuse
    assert len(side_doors) == 2 * len(DOORS) - 1
    for port in side_doors:
        paths = (f"/buckets/{bucket}/{key}", f"/{bucket}/{key}", "/dir/status", "/dir/assign", "/")
        for path in paths:
            status, body = _try(port, "GET", path)
            assert SECRET not in body, f"port {port} served {path} without credentials"
            assert not 200 <= status < 300, f"port {port} answered {path} without credentials"
        assert not _speaks_plain_grpc(port), f"port {port} takes gRPC without a certificate"
        status, _ = _try(port, "POST", f"/buckets/{bucket}/planted.csv", b"evil")
        assert not 200 <= status < 300, f"port {port} accepted a write without credentials"
    assert not store.exists("planted.csv")
    anonymous, _ = _try(base, "GET", f"/{bucket}/{key}")
    assert anonymous == 403
    assert ObjectStore.get_bytes(store, key) == SECRET  # the S3 door, with keys, works
