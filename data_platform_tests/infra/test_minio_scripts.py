"""The MinIO scripts in infra/local, run against fake `mc`/`minio` executables.

Neither the MinIO server nor `mc` can be installed on these machines (no binary in the package
registries, no Docker engine), so each test here puts a fake on PATH that records its arguments
and answers like the real tool where the script depends on the answer. The tests check what
the script asks MinIO to do: the bucket, the policies' JSON, the users, retries and errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from data_platform_tests.infra.fakes import (
    BASE_ENV,
    SERVER,
    SETUP,
    calls,
    policy_by_resource,
    run,
)


@pytest.mark.parametrize("script", [SETUP, SERVER], ids=lambda p: p.name)
def test_script_is_valid_bash_and_strict(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script.read_text()
    assert os.access(script, os.X_OK)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
@pytest.mark.parametrize("script", [SETUP, SERVER], ids=lambda p: p.name)
def test_shellcheck_is_clean(script):
    subprocess.run(["shellcheck", str(script)], check=True)


def test_setup_creates_bucket_policies_and_users_with_fake_mc(fake_dir):
    result = run(SETUP, fake_dir, **BASE_ENV)
    assert result.returncode == 0, result.stderr
    ops = [c for c in calls(fake_dir) if not c.startswith("admin policy create")]
    assert ops == [
        "alias set dp-setup http://127.0.0.1:9999 root root-password",
        "mb --ignore-existing dp-setup/test-lake",
        "admin user add dp-setup platform platform-secret",
        "admin user add dp-setup reader reader-secret",
        "admin policy attach dp-setup test-lake-readwrite --user platform",
        "admin policy attach dp-setup test-lake-readonly --user reader",
    ]
    # Every call used a private config dir, removed afterwards: no credentials left behind.
    raw = (fake_dir / "raw.log").read_text().splitlines()
    config_dirs = {line.split()[1] for line in raw}
    assert all(line.startswith("--config-dir ") for line in raw)
    assert len(config_dirs) == 1
    assert not Path(config_dirs.pop()).exists()


def test_policies_are_limited_to_the_bucket(fake_dir):
    assert run(SETUP, fake_dir, **BASE_ENV).returncode == 0
    bucket, objects = "arn:aws:s3:::test-lake", "arn:aws:s3:::test-lake/*"
    readonly = policy_by_resource(fake_dir, "test-lake-readonly")
    readwrite = policy_by_resource(fake_dir, "test-lake-readwrite")
    assert set(readwrite) == {bucket, objects}
    raw = [f"arn:aws:s3:::test-lake/{p}/*" for p in ("landing", "archive", "quarantine")]
    raw.append("arn:aws:s3:::test-lake/warehouse/raw/*")
    assert readonly == {  # the analyst: reads the bucket, but not what arrived as it arrived
        bucket: {"s3:GetBucketLocation", "s3:ListBucket"},
        objects: {"s3:GetObject"},
        **{f"Deny {r}": {"s3:GetObject"} for r in raw},
    }
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= readwrite[objects]
    everything = set().union(*readwrite.values(), *readonly.values())
    assert not any("*" in action or "CreateBucket" in action for action in everything)


def test_setup_is_idempotent(fake_dir):
    assert run(SETUP, fake_dir, **BASE_ENV).returncode == 0
    again = run(SETUP, fake_dir, **BASE_ENV)
    assert again.returncode == 0, again.stderr
    assert "bucket 'test-lake' ready" in again.stdout


def test_setup_fails_on_other_attach_errors(fake_dir):
    result = run(SETUP, fake_dir, **BASE_ENV, FAKE_ATTACH_ERROR="mc: <ERROR> user not found")
    assert result.returncode != 0
    assert "user not found" in result.stderr


def test_setup_waits_for_the_server_then_gives_up(fake_dir):
    (fake_dir / "alias_failures").write_text("1")
    assert run(SETUP, fake_dir, **BASE_ENV).returncode == 0
    assert calls(fake_dir)[:2] == [calls(fake_dir)[0]] * 2

    (fake_dir / "alias_failures").write_text("1000")
    start = time.monotonic()
    result = run(SETUP, fake_dir, **BASE_ENV, MINIO_WAIT_SECONDS="1")
    assert result.returncode == 1
    assert "no answer from http://127.0.0.1:9999 within 1s" in result.stderr
    assert time.monotonic() - start < 10


def test_setup_refuses_missing_or_short_credentials(fake_dir):
    env = {k: v for k, v in BASE_ENV.items() if k != "PLATFORM_SECRET_KEY"}
    result = run(SETUP, fake_dir, **env)
    assert result.returncode != 0
    assert "PLATFORM_SECRET_KEY is required" in result.stderr
    result = run(SETUP, fake_dir, **{**BASE_ENV, "READONLY_SECRET_KEY": "short"})
    assert result.returncode == 2
    assert "at least 8 characters" in result.stderr
    assert not (fake_dir / "calls.log").exists()


def test_server_script_binds_loopback_with_fake_minio(fake_dir, tmp_path):
    data = tmp_path / "minio-data"
    env = {"MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "root-password"}
    result = run(SERVER, fake_dir, **env, MINIO_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr
    assert (fake_dir / "minio.args").read_text().split() == [
        "server", str(data), "--address", "127.0.0.1:9000", "--console-address", "127.0.0.1:9001",
    ]  # fmt: skip
    assert data.is_dir()
