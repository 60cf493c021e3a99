"""Secret-bearing resource fields are `dg.EnvVar` in the Definitions when their variable is set.

What the Dagster UI shows is read from the repository snapshot it is served
(`RepositorySnap`): an env-sourced field appears as the variable's name, never its value.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import (
    RepositorySnap,
    ResourceConfigEnvVarSnap,
)

from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.defs.resources.labeling import default_labeling_resource
from data_platform_tests.defs.helpers import sample_contract

SECRETS = {
    "DP_S3_ACCESS_KEY": "access-not-shown",
    "DP_S3_SECRET_KEY": "secret-not-shown",
    "DP_CATALOG_URI": "postgresql://lake:password-not-shown@127.0.0.1:5432/lake",
    "DP_LABELING_TOKEN": "token-not-shown",
}
BOUND = {
    ("platform", "s3_access_key"): "DP_S3_ACCESS_KEY",
    ("platform", "s3_secret_key"): "DP_S3_SECRET_KEY",
    ("platform", "catalog_uri"): "DP_CATALOG_URI",
    ("labeling", "token"): "DP_LABELING_TOKEN",
}


@pytest.fixture
def fresh_labeling_resource() -> Iterator[None]:
    """`default_labeling_resource` is cached per process: built anew for this test."""
    default_labeling_resource.cache_clear()
    yield
    default_labeling_resource.cache_clear()


def _shown(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[tuple[str, str], object]:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(contracts=[sample_contract("reviews")])
    snap = RepositorySnap.from_def(defs.get_repository_def())
    values = {r.name: r.configured_values for r in snap.resources}
    return {(res, field): values[res][field] for res, field in BOUND}


@pytest.mark.usefixtures("fresh_labeling_resource")
def test_a_set_secret_variable_is_bound_as_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = _shown(monkeypatch, SECRETS)
    assert shown == {key: ResourceConfigEnvVarSnap(name=var) for key, var in BOUND.items()}
    assert not any(secret in repr(shown) for secret in SECRETS.values())


@pytest.mark.usefixtures("fresh_labeling_resource")
def test_an_unset_variable_leaves_the_field_to_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = _shown(monkeypatch, {"DP_S3_SECRET_KEY": SECRETS["DP_S3_SECRET_KEY"]})
    assert shown.pop(("platform", "s3_secret_key")) == ResourceConfigEnvVarSnap(
        name="DP_S3_SECRET_KEY"
    )
    assert set(shown.values()) == {"null"}  # unset: Settings gives the value when a run starts


def test_an_env_var_field_gives_the_value_in_a_run_and_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DP_S3_SECRET_KEY", "secret-in-the-run")
    platform = SettingsResource.from_environment()
    assert isinstance(platform.s3_secret_key, dg.EnvVar)
    outside = platform.get_settings().s3_secret_key.get_secret_value()
    seen: list[str] = []

    @dg.asset
    def reads_settings(platform: SettingsResource) -> None:
        seen.append(platform.get_settings().s3_secret_key.get_secret_value())

    assert dg.materialize([reads_settings], resources={"platform": platform}).success
    assert seen == [outside] == ["secret-in-the-run"]  # never the variable's name
