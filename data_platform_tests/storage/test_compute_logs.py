"""Run logs in the lake's bucket (dagster-aws's S3 compute log manager), on the real store."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform.storage.compute_logs import LakeComputeLogManager

pytestmark = pytest.mark.integration


@dg.op
def shout() -> None:
    print("hello from inside the op")  # noqa: T201 - what the compute log captures


@dg.job
def loud() -> None:
    shout()


def test_a_runs_output_is_stored_in_the_bucket_and_read_back(
    settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the instance builds the manager from dagster.yaml; it finds the store as any
    # process of a deployment does, through the DP_* variables
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    compute_logs = {
        "module": "data_platform.storage.compute_logs",
        "class": "LakeComputeLogManager",
        "config": {"prefix": "dagster/logs"},
    }
    with dg.instance_for_test(overrides={"compute_logs": compute_logs}) as instance:
        result = loud.execute_in_process(instance=instance)
        assert result.success
        keys = [info.key for info in store.list("dagster/logs/")]
        assert any(key.endswith(".out") for key in keys), keys
        stdout = b"".join(store.get_bytes(k) for k in keys if k.endswith(".out"))
        assert b"hello from inside the op" in stdout
    # another node (a fresh manager, nothing staged locally) reads it from the bucket, as
    # the UI's log view does
    elsewhere = LakeComputeLogManager(
        prefix="dagster/logs", local_dir=str(tmp_path / "other-node"), settings=settings
    )
    log_key = next(k for k in keys if k.endswith(".out")).removesuffix(".out")
    data = elsewhere.get_log_data(log_key.removeprefix("dagster/logs/storage/").split("/"))
    assert data.stdout is not None
    assert b"hello from inside the op" in data.stdout
