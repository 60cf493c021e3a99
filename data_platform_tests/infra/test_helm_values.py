"""The values for the official Dagster Helm chart parse and fit the chart, checked offline.

Helm and the chart cannot be fetched here. The key sets below are taken from the chart's own
values schema (helm/dagster/schema in dagster-io/dagster: DagsterHelmValues, PostgreSQL,
UserDeployment, K8sRunLauncherConfig); the Kubernetes parts validate against the Kubernetes
schemas like the manifests do.
"""

from __future__ import annotations

import re

import pytest

from data_platform_tests.infra.infra_files import (
    COMPOSE_DIR,
    ManifestError,
    find_object,
    helm_values,
    load_compose,
    run_launcher,
    user_deployment,
    validate_fragment,
)

CHART_TOP_LEVEL = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql",
    "generatePostgresqlPasswordSecret", "generateCeleryConfigSecret", "rabbitmq", "redis",
    "flower", "ingress", "imagePullSecrets",
    "computeLogManager", "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox",
    "migrate", "telemetry", "serviceAccount", "global", "retention", "concurrency",
    "additionalInstanceConfig",
}  # fmt: skip
CHART_POSTGRESQL = {
    "postgresqlScheme", "image", "enabled", "postgresqlHost", "postgresqlUsername",
    "postgresqlPassword", "postgresqlDatabase", "postgresqlParams", "service",
}  # fmt: skip
CHART_USER_DEPLOYMENTS = {"enabled", "enableSubchart", "imagePullSecrets", "deployments"}
CHART_USER_DEPLOYMENT = {
    "name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
    "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe",
    "startupProbe", "labels", "volumeMounts", "volumes", "schedulerName",
}  # fmt: skip
CHART_K8S_RUN_LAUNCHER = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "runK8sConfig", "resources",
}  # fmt: skip


def test_values_use_only_keys_the_chart_knows():
    assert set(helm_values()) <= CHART_TOP_LEVEL
    assert set(helm_values()["postgresql"]) <= CHART_POSTGRESQL
    assert set(helm_values()["dagster-user-deployments"]) <= CHART_USER_DEPLOYMENTS
    assert set(user_deployment()) <= CHART_USER_DEPLOYMENT
    assert set(run_launcher()) <= CHART_K8S_RUN_LAUNCHER
    assert helm_values()["runLauncher"]["type"] == "K8sRunLauncher"


def test_postgres_is_external_with_the_password_from_our_secret():
    assert helm_values()["postgresql"]["enabled"] is False
    assert helm_values()["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in helm_values()["postgresql"]
    secret = find_object("Secret", helm_values()["global"]["postgresqlSecretName"])
    assert "postgresql-password" in secret["stringData"]
    assert find_object("Service", helm_values()["postgresql"]["postgresqlHost"])


def test_user_deployment_serves_the_definitions_from_the_compose_image():
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", user_deployment()["name"])
    assert user_deployment()["codeServerArgs"] == ["-m", "data_platform.definitions"]
    assert isinstance(user_deployment()["port"], int)
    image = user_deployment()["image"]
    compose_image = load_compose(COMPOSE_DIR / "docker-compose.yml")["services"]["user-code"]
    assert f"{image['repository']}:{image['tag']}" == compose_image["image"]
    # kind-loaded images are never pulled: Always would fail on a local tag.
    assert image["pullPolicy"] == run_launcher()["imagePullPolicy"] == "IfNotPresent"
    assert user_deployment()["includeConfigInLaunchedRuns"] == {"enabled": True}


@pytest.mark.parametrize("block", [user_deployment, run_launcher], ids=lambda f: f.__name__)
def test_env_sources_are_kubernetes_env_sources_that_exist(block):
    block = block()
    for ref in block["envConfigMaps"]:
        validate_fragment(ref, "configmapenvsource-v1")
        assert find_object("ConfigMap", ref["name"])
    for ref in block["envSecrets"]:
        validate_fragment(ref, "secretenvsource-v1")
        assert find_object("Secret", ref["name"])
    if "resources" in block:
        validate_fragment(block["resources"], "resourcerequirements-v1")


@pytest.mark.parametrize(
    ("fragment", "schema"),
    [
        ("data-platform-config", "configmapenvsource-v1"),  # the chart's pre-1.0 list format
        ({"name": "x", "optinal": True}, "secretenvsource-v1"),
        ({"requests": {"cpu": [1]}}, "resourcerequirements-v1"),
    ],
)
def test_fragment_validator_rejects_broken_parts(fragment, schema):
    with pytest.raises(ManifestError):
        validate_fragment(fragment, schema)
