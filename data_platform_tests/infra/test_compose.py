"""The Docker Compose deployment is consistent, checked offline (no Docker engine here)."""

from __future__ import annotations

import copy
import re
import shutil
import tomllib

import pytest
import yaml
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.workspace.config_schema import ensure_workspace_config

from data_platform_tests.infra.infra_files import (
    COMPOSE_DIR,
    REPO_ROOT,
    compose_problems,
    compose_variables,
    env_example,
    is_pinned,
    load_compose,
    service_environment,
    services,
)


def dockerfile() -> str:
    return (REPO_ROOT / "infra/docker/Dockerfile").read_text()


def test_compose_file_has_no_problems():
    assert compose_problems(load_compose(), env_example(), COMPOSE_DIR) == []
    assert set(services()) == {
        "minio",
        "minio-init",
        "postgres",
        "user-code",
        "webserver",
        "daemon",
    }


def test_problems_are_found_in_a_broken_compose_file():
    broken = copy.deepcopy(load_compose())
    broken["services"]["webserver"]["depends_on"]["redis"] = {"condition": "service_started"}
    broken["services"]["daemon"]["depends_on"]["minio-init"] = {"condition": "service_healthy"}
    broken["services"]["minio"]["volumes"] = ["minio-cache:/data", "./missing.conf:/etc/x:ro"]
    broken["services"]["minio"]["environment"]["MINIO_REGION"] = "${MINIO_REGION}"
    del broken["services"]["postgres"]["image"]
    assert sorted(compose_problems(broken, env_example(), COMPOSE_DIR)) == [
        "${MINIO_REGION} is not in .env.example",
        "daemon waits for minio-init to be healthy; it has no healthcheck",
        "minio mounts missing file ./missing.conf",
        "minio mounts undeclared volume minio-cache",
        "postgres has neither image nor build",
        "webserver depends on undefined service redis",
    ]


def test_env_example_has_no_unused_variables():
    used = compose_variables((COMPOSE_DIR / "docker-compose.yml").read_text())
    assert set(env_example()) == used


def test_published_ports_bind_loopback_only():
    for name, svc in services().items():
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


def test_images_are_pinned_and_the_platform_image_is_built_from_this_repo():
    for name in ("minio", "minio-init", "postgres"):
        assert is_pinned(services()[name]["image"]), name
    assert services()["minio-init"]["image"].startswith("minio/mc:")
    platform = [n for n, s in services().items() if "build" in s]
    assert sorted(platform) == ["daemon", "user-code", "webserver"]
    for name in platform:
        build = services()[name]["build"]
        assert (COMPOSE_DIR / build["context"] / build["dockerfile"]).is_file()
        assert services()[name]["image"] == services()["user-code"]["image"]


def test_user_code_serves_the_definitions_module_the_workspace_points_at():
    command = services()["user-code"]["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-m") + 1] == "data_platform.definitions"
    workspace = yaml.safe_load((COMPOSE_DIR / "workspace.yaml").read_text())
    ensure_workspace_config(workspace, str(COMPOSE_DIR / "workspace.yaml"))
    (location,) = workspace["load_from"]
    grpc = location["grpc_server"]
    assert grpc["host"] == "user-code"
    assert str(grpc["port"]) == command[command.index("-p") + 1]
    assert services()["user-code"]["healthcheck"]["test"][-1] == str(grpc["port"])
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert grpc["location_name"] == pyproject["tool"]["dagster"]["code_location_name"]


@pytest.fixture
def dagster_pg_env(monkeypatch):
    env = service_environment(services()["user-code"], env_example())
    env = {k: v for k, v in env.items() if k.startswith("DAGSTER")}
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return env


def test_dagster_yaml_validates_against_the_instance_schema(dagster_pg_env, tmp_path):
    shutil.copy(COMPOSE_DIR / "dagster.yaml", tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    assert set(config["storage"]["postgres"]["postgres_db"]) == {
        "hostname",
        "port",
        "username",
        "password",
        "db_name",
    }
    for service in ("user-code", "webserver", "daemon"):
        env = services()[service]["environment"]
        assert {"DAGSTER_HOME", *(f"DAGSTER_PG_{k}" for k in ("HOST", "PORT", "USER"))} <= set(env)
        mounts = services()[service]["volumes"]
        assert f"./dagster.yaml:{env['DAGSTER_HOME']}/dagster.yaml:ro" in mounts


def test_broken_dagster_yaml_is_rejected(dagster_pg_env, tmp_path):
    config = yaml.safe_load((COMPOSE_DIR / "dagster.yaml").read_text())
    config["storage"]["postgres"]["postgres_db"]["hostnam"] = "typo"
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def test_dockerfile_installs_cpu_torch_before_the_package():
    lines = [line.strip() for line in dockerfile().splitlines()]
    torch = lines.index(
        "RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    )
    package = next(i for i, line in enumerate(lines) if line.startswith("RUN pip install . "))
    assert torch < package
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile(), re.M)


def test_dockerfile_dagster_libraries_match_the_dagster_pin():
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dagster = next(d for d in deps if d.startswith("dagster=="))
    patch = dagster.split("==")[1].split(".")[-1]
    for lib in ("dagster-postgres", "dagster-k8s"):
        version = re.search(rf"{lib}==(\S+)", dockerfile())[1]
        assert version.startswith("0."), (lib, version)
        assert version.split(".")[-1] == patch, (lib, version)


def test_dockerfile_default_command_is_the_compose_code_server():
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile(), re.M)[1]
    assert yaml.safe_load(cmd) == services()["user-code"]["command"]


def test_docker_context_keeps_what_pip_install_needs():
    ignore = (REPO_ROOT / "infra/docker/Dockerfile.dockerignore").read_text().splitlines()
    for keep in ("!pyproject.toml", "!README.md", "!data_platform/"):
        assert ignore.index("*") < ignore.index(keep), keep
