"""The one settings object: sections, copies, and the environment it hands to children."""

from __future__ import annotations

import json
import os

import pytest

from data_platform.lakehouse.catalog import catalog_properties
from data_platform.settings import (
    LabelingServerNotRunningError,
    Settings,
    child_env,
    load_settings,
    remote_step_env,
    set_library_env,
)


def _external(endpoint: str) -> Settings:
    return Settings(s3_endpoint=endpoint, s3_access_key="k", s3_secret_key="s")


def test_a_copy_with_a_new_endpoint_talks_to_the_new_endpoint():
    first = _external("http://127.0.0.1:1111")
    assert first.endpoint == "http://127.0.0.1:1111"  # caches the connection
    copy = first.model_copy(update={"s3_endpoint": "http://127.0.0.1:2222"})
    assert copy.endpoint == "http://127.0.0.1:2222"
    assert catalog_properties(copy)["s3.endpoint"] == "http://127.0.0.1:2222"
    assert first.endpoint == "http://127.0.0.1:1111"


def test_a_copy_with_a_new_home_reads_that_homes_stack_state(tmp_path, monkeypatch):
    monkeypatch.delenv("DP_S3_ENDPOINT", raising=False)
    for name, port in (("a", 1111), ("b", 2222)):
        state = tmp_path / name / "stack" / "state.json"
        state.parent.mkdir(parents=True)
        endpoint = f"http://127.0.0.1:{port}"
        state.write_text(json.dumps({"endpoint": endpoint, "access_key": "k", "secret_key": "s"}))
    first = Settings(home=tmp_path / "a")
    assert first.endpoint == "http://127.0.0.1:1111"
    assert first.model_copy(update={"home": tmp_path / "b"}).endpoint == "http://127.0.0.1:2222"


def test_labeling_is_a_section_read_from_dp_labeling_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("DP_HOME", str(tmp_path))
    monkeypatch.setenv("DP_LABELING_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("DP_LABELING_TOKEN", "t0ken")
    settings = Settings()
    assert settings.labeling.url == "http://127.0.0.1:9/"
    assert settings.labeling_connection() == ("http://127.0.0.1:9", "t0ken")
    pinned = load_settings(labeling={"url": "http://127.0.0.1:8", "token": None})
    assert pinned.labeling.url == "http://127.0.0.1:8"
    assert pinned.labeling.token.get_secret_value() == "t0ken"  # unset overrides fall back


def test_no_labeling_url_and_no_local_state_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DP_LABELING_URL", raising=False)
    settings = Settings(home=tmp_path)
    assert settings.label_studio_state_file == tmp_path.resolve() / "label-studio/state.json"
    with pytest.raises(LabelingServerNotRunningError, match="labeling up"):
        settings.labeling_connection()


def test_dagster_home_is_read_from_its_own_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert Settings().dagster_home == tmp_path
    monkeypatch.delenv("DAGSTER_HOME")
    assert Settings().dagster_home is None


def test_child_env_keeps_only_what_is_asked_and_adds_extras(monkeypatch):
    monkeypatch.setenv("DP_TEST_SECRET", "x")
    assert child_env(extra="1")["DP_TEST_SECRET"] == "x"
    kept = child_env(("PATH",), HOME="/nowhere")
    assert kept == {"PATH": os.environ["PATH"], "HOME": "/nowhere"}


def test_library_env_leaves_an_operators_value_unless_told(monkeypatch):
    monkeypatch.setenv("DP_TEST_LIB", "operator")
    assert set_library_env({"DP_TEST_LIB": "ours"}, override=False) == {"DP_TEST_LIB": "operator"}
    assert set_library_env({"DP_TEST_LIB": "ours"}) == {"DP_TEST_LIB": "ours"}
    assert os.environ["DP_TEST_LIB"] == "ours"


def test_a_remote_step_gets_absolute_folders_and_other_variables_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DP_HOME", "rel-home")
    monkeypatch.setenv("DP_S3_SECRET_KEY", "not-in-the-list")
    monkeypatch.setenv("DAGSTER_HOME", "dh")
    env = remote_step_env(Settings())
    assert env[:3] == [
        f"DP_HOME={tmp_path / 'rel-home'}",
        f"DP_DATASETS_DIR={tmp_path / 'datasets'}",
        f"DAGSTER_HOME={tmp_path / 'dh'}",
    ]
    assert "DP_S3_SECRET_KEY" in env  # by name: its value is read where the step is launched
    assert not any(e.startswith(("DP_HOME", "DAGSTER_HOME")) for e in env[3:])
    assert not any("not-in-the-list" in e for e in env)
