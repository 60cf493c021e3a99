"""The embedded S3 server: enforced credentials, restart keeps data and keys."""

from __future__ import annotations

import io
import json
import socket
import stat
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from data_platform.ops.stack import seaweed
from data_platform.ops.stack.process import free_port_block, pid_alive
from data_platform.ops.stack.seaweed import EmbeddedS3
from data_platform.settings import Settings

pytestmark = pytest.mark.integration


def _client(endpoint: str, access: str, secret: str) -> Minio:
    return Minio(endpoint.removeprefix("http://"), access, secret, secure=False, region="us-east-1")


def test_server_enforces_identities(s3_server):
    admin = _client(s3_server.endpoint, s3_server.access_key, s3_server.secret_key)
    reader = _client(s3_server.endpoint, s3_server.analyst_access_key, s3_server.analyst_secret_key)
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


def test_a_port_taken_after_the_check_moves_the_store_to_other_ports(tmp_path, monkeypatch):
    """The race `up` cannot prevent: a port found free is taken before weed binds it (weed
    then exits). Simulated by making the check blind to one held port of the block."""
    stack = EmbeddedS3(tmp_path / "stack")
    stack.root.mkdir(parents=True)
    taken = free_port_block(seaweed.PORTS_PER_SERVER, offsets=(0, seaweed.GRPC_OFFSET))
    (stack.root / "ports").write_text(str(taken))  # the block a restart would reuse
    monkeypatch.setattr(seaweed, "port_is_free", lambda port: True)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken + 2))  # the volume server's port
        holder.listen()
        try:
            state = stack.up()
            assert state.port_base != taken
            client = _client(state.endpoint, state.access_key, state.secret_key)
            client.put_object("lake", "moved.txt", io.BytesIO(b"ok"), 2)
            assert client.get_object("lake", "moved.txt").read() == b"ok"
        finally:
            stack.down()


def _shared(home: Path) -> list[str]:
    """What under `home` (itself included) has a group or other permission bit."""
    return [
        f"{p.relative_to(home)} {stat.filemode(p.lstat().st_mode)}"
        for p in [home, *home.rglob("*")]
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


def test_the_store_and_its_files_are_readable_by_the_owner_only(tmp_path):
    """DP_HOME, the store's folder and everything written there (objects, keys, logs,
    sockets): no group or other permission bits (0700 folders, 0600 files)."""
    settings = Settings(home=tmp_path / "home")
    stack = EmbeddedS3(settings.stack_dir)
    state = stack.up()
    try:
        home = settings.home_dir
        assert not _shared(home)
        client = _client(state.endpoint, state.access_key, state.secret_key)
        client.put_object("lake", "private.txt", io.BytesIO(b"secret"), 6)
        client.make_bucket("other")  # a new collection: volumes made after the start
        client.put_object("other", "private.txt", io.BytesIO(b"secret"), 6)
        assert any(p.suffix == ".dat" for p in home.rglob("*"))  # objects were written
        # weed chmods each volume's metadata file (.vif) to 0644 itself: unreachable for
        # other users all the same, behind the 0700 folders checked here
        assert [s for s in _shared(home) if ".vif " not in s] == []
        stack.down()
        stack.up()  # a start takes the bits off what is there
        assert not _shared(home)
    finally:
        stack.down()


def test_a_start_makes_an_older_store_private(tmp_path):
    """A store an earlier version left readable (0755 folders, 0644 files) is closed on
    its next start."""
    stack = EmbeddedS3(tmp_path / "stack")
    stack.up()
    stack.down()
    for path in [stack.root, *stack.root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    stack.up()
    try:
        assert not _shared(stack.root)
    finally:
        stack.down()


def test_a_stack_made_before_the_analyst_keeps_its_keys_under_the_new_name(tmp_path):
    """The identities file of an earlier version had `readonly`: it becomes `analyst`."""
    stack = EmbeddedS3(tmp_path / "stack")
    stack.data_dir.mkdir(parents=True)
    old = {
        "identities": [
            {
                "name": "admin",
                "credentials": [{"accessKey": "a1", "secretKey": "s1"}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            },
            {
                "name": "readonly",
                "credentials": [{"accessKey": "r1", "secretKey": "s2"}],
                "actions": ["Read", "List"],
            },
        ]
    }
    stack.identities_file.write_text(json.dumps(old))
    keys = stack._identities()
    assert (keys["analyst_access_key"], keys["analyst_secret_key"]) == ("r1", "s2")
    names = [i["name"] for i in json.loads(stack.identities_file.read_text())["identities"]]
    assert names == ["admin", "analyst"]


def test_stack_up_makes_the_analyst_policy_and_the_de_identification_key(tmp_path):
    """`data-platform stack up` (ensure_stack): the store, its bucket refusing the analyst
    what arrived as it arrived, and the HMAC key made once, owner-only."""
    from data_platform.ops.cli.stack import embedded_stack, ensure_stack
    from data_platform.privacy.secret import key_file
    from data_platform.storage import AccessDenied, ObjectStore

    admin = Settings(home=tmp_path / "home", s3_endpoint="")
    try:
        assert "embedded SeaweedFS" in ensure_stack(admin)
        key = key_file(admin)
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        made = key.read_text()
        ObjectStore.from_settings(admin).put_bytes("landing/people/u.csv", b"email\na@b.org\n")
        analyst = ObjectStore.from_settings(admin.model_copy(update={"identity": "analyst"}))
        with pytest.raises(AccessDenied):
            analyst.get_bytes("landing/people/u.csv")
        ensure_stack(admin)  # again: the same key
        assert key.read_text() == made
    finally:
        embedded_stack(admin).down()
