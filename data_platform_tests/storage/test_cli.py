"""`data-platform objects ...` through typer's CliRunner, against the real S3 server.

The DP_* variables are set from the fixture values (see `cli_env` in conftest.py), so the
CLI builds its client exactly as in production: `ObjectStore.from_settings(Settings())`.
"""

from __future__ import annotations

import hashlib
import random
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_platform.ops.cli.main import app
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration
runner = CliRunner()


def run(*args: str, stdin: bytes | None = None):
    return runner.invoke(app, ["objects", *args], input=stdin)


@pytest.fixture
def cli_store(cli_env: Settings) -> ObjectStore:
    return ObjectStore.from_settings(cli_env)


def test_help_texts(cli_env):
    top = run("--help")
    assert top.exit_code == 0
    for command in ("ls", "put", "get", "rm", "presign", "stat"):
        assert command in top.output
        helped = run(command, "--help")
        assert helped.exit_code == 0, command
        assert "--bucket" in helped.output
    assert "part size" in run("put", "--help").output.lower()
    assert "--missing-ok" in run("rm", "--help").output


def test_put_then_ls_then_get_round_trip(cli_store: ObjectStore, tmp_path: Path):
    source = tmp_path / "reviews.csv"
    source.write_text("id,text\n1,fine\n")
    put = run("put", str(source), "raw/reviews.csv", "--meta", "source=cli")
    assert put.exit_code == 0, put.output
    assert hashlib.sha256(source.read_bytes()).hexdigest() in put.output
    assert cli_store.stat("raw/reviews.csv").metadata == {"source": "cli"}

    listing = run("ls", "-r")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines() == ["raw/reviews.csv"]
    assert run("ls").stdout.splitlines() == ["raw/"]
    long = run("ls", "raw/", "-l").stdout
    assert "raw/reviews.csv" in long
    assert str(source.stat().st_size) in long

    got = run("get", "raw/reviews.csv", str(tmp_path / "copy.csv"))
    assert got.exit_code == 0, got.output
    assert (tmp_path / "copy.csv").read_bytes() == source.read_bytes()
    assert run("get", "raw/reviews.csv", "-").stdout == source.read_text()


def test_get_defaults_to_the_key_name_in_the_current_directory(cli_store, tmp_path):
    cli_store.put_bytes("deep/path/name.txt", b"here")
    assert run("get", "deep/path/name.txt").exit_code == 0
    assert (tmp_path / "name.txt").read_bytes() == b"here"  # cli_env chdir'd to tmp_path


def test_put_from_stdin(cli_store: ObjectStore):
    result = run("put", "-", "piped/data.bin", "--no-progress", stdin=b"from a pipe")
    assert result.exit_code == 0, result.output
    assert cli_store.get_bytes("piped/data.bin") == b"from a pipe"
    assert run("put", "-").exit_code == 2  # a key is required for stdin


def test_large_put_and_get_show_progress(cli_store: ObjectStore, tmp_path: Path):
    source = tmp_path / "big.bin"
    source.write_bytes(random.Random(3).randbytes(9 * 1024 * 1024))
    put = run("put", str(source), "big.bin", "--part-size", "5")
    assert put.exit_code == 0, put.output
    assert "big.bin" in put.stderr
    assert "MB" in put.stderr
    assert cli_store.stat("big.bin").etag.endswith("-2")
    got = run("get", "big.bin", str(tmp_path / "back.bin"))
    assert got.exit_code == 0
    assert "MB" in got.stderr
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    small = run("put", str(source), "quiet.bin", "--no-progress")
    assert small.stderr == ""


def test_ls_pages_with_limit_and_start_after(cli_store: ObjectStore):
    for i in range(5):
        cli_store.put_bytes(f"p/{i}", b"x")
    first = run("ls", "p/", "-r", "-n", "2")
    assert first.stdout.splitlines() == ["p/0", "p/1"]
    assert "--start-after 'p/1'" in first.stderr
    rest = run("ls", "p/", "-r", "--start-after", "p/1")
    assert rest.stdout.splitlines() == ["p/2", "p/3", "p/4"]


def test_rm(cli_store: ObjectStore):
    cli_store.put_bytes("a", b"1")
    cli_store.put_bytes("dir/b", b"2")
    cli_store.put_bytes("dir/c", b"3")
    assert run("rm", "a").exit_code == 0
    assert not cli_store.exists("a")
    missing = run("rm", "a")
    assert missing.exit_code == 1
    assert "NoSuchKey" in missing.stderr
    assert f"s3://{cli_store.bucket}/a" in missing.stderr
    assert run("rm", "a", "--missing-ok").exit_code == 0
    recursive = run("rm", "-r", "dir/")
    assert recursive.exit_code == 0
    assert "deleted 2 object(s)" in recursive.stdout
    assert list(cli_store.list()) == []


def test_presign_get_and_put(cli_store: ObjectStore):
    cli_store.put_bytes("shared.txt", b"hello")
    url = run("presign", "shared.txt", "--expires", "60").stdout.strip()
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"hello"
    put_url = run("presign", "up.txt", "--put").stdout.strip()
    request = urllib.request.Request(put_url, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(request, timeout=10):
        pass
    assert cli_store.get_bytes("up.txt") == b"uploaded"
    assert run("presign", "x", "--expires", "0").exit_code == 2


def test_stat(cli_store: ObjectStore):
    cli_store.put_bytes("s.json", b"{}", content_type="application/json", metadata={"m": "1"})
    cli_store.set_tags("s.json", {"t": "2"})
    out = run("stat", "s.json").stdout
    assert "content-type:  application/json" in out
    assert "meta m: 1" in out
    assert "tag t: 2" in out
    assert hashlib.sha256(b"{}").hexdigest() in out


def test_errors_are_one_line_with_exit_codes(cli_env, monkeypatch, down_settings):
    unsafe = run("get", "../etc/passwd")
    assert unsafe.exit_code == 1
    assert "unsafe object key" in unsafe.stderr
    assert "Traceback" not in unsafe.output
    assert run("get", "no-such-key", "out.bin").exit_code == 1
    monkeypatch.setenv("DP_S3_ENDPOINT", down_settings.endpoint)
    down = run("ls")
    assert down.exit_code == 1
    assert "gave up after" in down.stderr
    monkeypatch.setenv("DP_S3_ENDPOINT", "127.0.0.1:9000")
    misconfigured = run("ls")
    assert misconfigured.exit_code == 2
    assert "needs a scheme" in misconfigured.stderr


def test_read_only_identity_cannot_upload(cli_env, monkeypatch, s3_server, tmp_path):
    monkeypatch.setenv("DP_S3_ACCESS_KEY", s3_server.analyst_access_key)
    monkeypatch.setenv("DP_S3_SECRET_KEY", s3_server.analyst_secret_key)
    (tmp_path / "f.txt").write_text("x")
    refused = run("put", str(tmp_path / "f.txt"))
    assert refused.exit_code == 1
    assert "AccessDenied" in refused.stderr
    assert run("ls").exit_code == 0
