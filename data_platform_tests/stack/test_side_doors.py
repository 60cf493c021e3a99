"""The embedded store has one door, S3 with keys: every other port refuses anonymous use.

SeaweedFS listens on more ports than S3's: the filer, master and volume HTTP ports (plus
gRPC on each + 10000). With the platform's security.toml (JWT keys only the servers
hold), `-disableHttp` and the unused components off, none of them serves or accepts an
object without credentials.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import psutil
import pytest

from data_platform.stack.seaweed import EmbeddedS3, StackState
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration
SECRET = b"account,balance\nalice,1000000\n"


def _try(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(4096)
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:
        return 0, b""  # refused or reset: not an HTTP door at all (gRPC)


def _listening(state: StackState) -> list[int]:
    process = psutil.Process(state.pid)
    return sorted({c.laddr.port for c in process.net_connections() if c.status == "LISTEN"})


def test_only_the_s3_port_serves_objects(s3_stack: EmbeddedS3, s3_server: StackState, store):
    key = "private/accounts.csv"
    store.put_bytes(key, SECRET)
    bucket = store.bucket
    ports = _listening(s3_server)
    base = s3_server.port_base
    unused = {base + 4, base + 5, base + 7}  # Iceberg REST, WebDAV, Lance: not started
    assert not unused & set(ports)
    for port in ports:
        if port == base:
            continue  # S3 itself: anonymous requests are refused by the identities
        for path in (f"/buckets/{bucket}/{key}", f"/{bucket}/{key}", "/dir/status", "/dir/assign"):
            status, body = _try(port, "GET", path)
            assert SECRET not in body, f"port {port} served {path} without credentials"
            assert not (200 <= status < 300 and path.startswith("/dir")), (
                f"port {port} answered {path} without credentials"
            )
        status, _ = _try(port, "POST", f"/buckets/{bucket}/planted.csv", b"evil")
        assert not 200 <= status < 300, f"port {port} accepted a write without credentials"
    assert not store.exists("planted.csv")
    anonymous, _ = _try(base, "GET", f"/{bucket}/{key}")
    assert anonymous == 403
    assert ObjectStore.get_bytes(store, key) == SECRET  # the S3 door, with keys, works
