"""What the deployments set is what `data_platform.settings.Settings` reads, and agrees with itself.

Every DP_* variable a deployment sets must be a Settings field; the required ones must be set
where the platform's code runs (compose user-code; Kubernetes user deployment and run pods);
bucket, databases, hosts and credentials must match between the init steps and the platform.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import yaml
from sqlalchemy.engine import make_url

from data_platform.lakehouse.catalog import catalog_properties
from data_platform.settings import Settings
from data_platform_tests.infra.infra_files import (
    COMPOSE_DIR,
    COPIES,
    REQUIRED_DP,
    container_environment,
    env_example,
    find_object,
    helm_environment,
    helm_values,
    kubernetes_objects,
    object_data,
    run_launcher,
    service_environment,
    services,
    user_deployment,
)


def init_sql() -> str:
    return (COMPOSE_DIR / "postgres/init-databases.sql").read_text()


def settings_problems(env: dict[str, str]) -> list[str]:
    """DP_* names that Settings does not know, and required ones that are missing or empty."""
    unknown = [
        f"{name} is not a Settings field"
        for name in sorted(env)
        if name.startswith("DP_") and name.removeprefix("DP_").lower() not in Settings.model_fields
    ]
    missing = [f"{name} is not set" for name in REQUIRED_DP if not env.get(name)]
    return unknown + missing


def compose_env(service: str) -> dict[str, str]:
    return service_environment(services()[service], env_example())


def job_env() -> dict[str, str]:
    (container,) = find_object("Job", "minio-bucket-init")["spec"]["template"]["spec"]["containers"]
    return container_environment(container)


# Where the platform's code runs, and the environment it gets there.
CODE_ENVIRONMENTS = {
    "compose:user-code": lambda: compose_env("user-code"),
    "helm:user-deployment": lambda: helm_environment(user_deployment()),
    "helm:run-pods": lambda: helm_environment(run_launcher()),
}


def test_every_dp_variable_is_a_settings_field():
    sources = {f"compose:{name}": compose_env(name) for name in services()}
    for path, obj in kubernetes_objects():
        if obj["kind"] in ("ConfigMap", "Secret"):
            sources[f"{path.name}:{obj['metadata']['name']}"] = object_data(obj)
    sources["job:minio-bucket-init"] = job_env()
    sources.update({name: env() for name, env in CODE_ENVIRONMENTS.items()})
    unknown = {
        where: problems
        for where, env in sources.items()
        if (problems := [p for p in settings_problems(env) if "field" in p])
    }
    assert unknown == {}
    assert sum("DP_BUCKET" in env for env in sources.values()) >= 5


def test_settings_problems_catches_typos_and_missing_values():
    env = compose_env("user-code")
    env["DP_S3_ENDPOINTS"] = env.pop("DP_S3_ENDPOINT")
    env["DP_BUCKET"] = ""
    assert settings_problems(env) == [
        "DP_S3_ENDPOINTS is not a Settings field",
        "DP_S3_ENDPOINT is not set",
        "DP_BUCKET is not set",
    ]


@pytest.mark.parametrize("where", sorted(CODE_ENVIRONMENTS))
def test_platform_settings_load_where_the_code_runs(where, monkeypatch):
    env = CODE_ENVIRONMENTS[where]()
    assert settings_problems(env) == []
    for name in [n for n in Settings.model_fields]:
        monkeypatch.delenv(f"DP_{name.upper()}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert not settings.uses_embedded_stack
    assert settings.endpoint == env["DP_S3_ENDPOINT"]
    assert catalog_properties(settings)["uri"] == env["DP_CATALOG_URI"]
    assert settings.warehouse == f"s3://{env['DP_BUCKET']}/warehouse"
    assert settings.access_key == env["DP_S3_ACCESS_KEY"]


def test_compose_bucket_init_creates_the_bucket_and_user_the_platform_uses():
    init, platform = compose_env("minio-init"), compose_env("user-code")
    assert init["DP_BUCKET"] == platform["DP_BUCKET"] == env_example()["LAKE_BUCKET"]
    assert init["PLATFORM_ACCESS_KEY"] == platform["DP_S3_ACCESS_KEY"]
    assert init["PLATFORM_SECRET_KEY"] == platform["DP_S3_SECRET_KEY"]
    assert urlparse(init["MINIO_ENDPOINT"]) == urlparse(platform["DP_S3_ENDPOINT"])


def test_kubernetes_bucket_init_creates_the_bucket_and_user_the_platform_uses():
    init = job_env()
    for where in ("helm:user-deployment", "helm:run-pods"):
        platform = CODE_ENVIRONMENTS[where]()
        assert init["DP_BUCKET"] == platform["DP_BUCKET"]
        assert init["PLATFORM_ACCESS_KEY"] == platform["DP_S3_ACCESS_KEY"]
        assert init["PLATFORM_SECRET_KEY"] == platform["DP_S3_SECRET_KEY"]
        assert init["MINIO_ENDPOINT"] == platform["DP_S3_ENDPOINT"]


def test_s3_endpoint_is_the_minio_service_and_port():
    compose_url = urlparse(compose_env("user-code")["DP_S3_ENDPOINT"])
    command = services()["minio"]["command"]
    assert compose_url.hostname in services()
    assert f":{compose_url.port}" == command[command.index("--address") + 1]
    k8s_url = urlparse(helm_environment(user_deployment())["DP_S3_ENDPOINT"])
    service = find_object("Service", k8s_url.hostname)
    assert k8s_url.port in {p["port"] for p in service["spec"]["ports"]}


def created_databases(sql: str) -> set[str]:
    return set(re.findall(r"^\s*CREATE DATABASE (\w+)\s*;", sql, re.M | re.I))


def test_compose_catalog_and_dagster_databases_exist_on_the_postgres_service():
    assert created_databases(init_sql()) == {"iceberg", "dagster"}
    env, pg = compose_env("user-code"), compose_env("postgres")
    url = make_url(env["DP_CATALOG_URI"])
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port) == (env["DAGSTER_PG_HOST"], int(env["DAGSTER_PG_PORT"]))
    assert url.host in services()
    assert (url.username, url.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
    assert (env["DAGSTER_PG_USER"], env["DAGSTER_PG_PASSWORD"]) == (url.username, url.password)
    assert {url.database, env["DAGSTER_PG_DB"]} == created_databases(init_sql())


def test_kubernetes_catalog_and_dagster_databases_exist_on_the_postgres_service():
    init = object_data(find_object("ConfigMap", "postgres-init"))["init-databases.sql"]
    postgres = object_data(find_object("Secret", "postgres"))
    url = make_url(helm_environment(user_deployment())["DP_CATALOG_URI"])
    pg_values = helm_values()["postgresql"]
    assert url.host == pg_values["postgresqlHost"]
    assert url.port == pg_values["service"]["port"]
    assert find_object("Service", url.host)
    assert url.username == pg_values["postgresqlUsername"] == postgres["POSTGRES_USER"]
    dagster_secret = object_data(
        find_object("Secret", helm_values()["global"]["postgresqlSecretName"])
    )
    assert url.password == postgres["POSTGRES_PASSWORD"] == dagster_secret["postgresql-password"]
    assert {url.database, pg_values["postgresqlDatabase"]} == created_databases(init)


@pytest.mark.parametrize("path", sorted(COPIES), ids=lambda p: p.name)
def test_configmap_copies_match_their_source_files(path):
    key, source = COPIES[path]
    copy = yaml.safe_load(path.read_text())["data"][key]
    assert copy == source.read_text(), (
        f"{path.name} is stale: run `python -m data_platform_tests.infra.infra_files`"
    )
