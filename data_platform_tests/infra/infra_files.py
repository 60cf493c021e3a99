"""Load and check the deployment files under infra/ offline: no Docker engine, no cluster.

Kubernetes objects are validated with `kubernetes-validate` against the JSON schemas it ships
(strict: unknown fields fail). Compose files are checked by `compose_problems`, which returns
what is wrong rather than raising, so tests can show it failing on a broken copy.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry, Resource

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
COMPOSE_DIR = INFRA / "compose"
K8S_DIR = INFRA / "kubernetes"
LOCAL_DIR = INFRA / "local"
# The Kubernetes version of the kind node image (kind-config.yaml); kubernetes-validate ships it.
K8S_VERSION = "1.33.0"
# Files in infra/kubernetes that are not Kubernetes objects.
NOT_MANIFESTS = {
    "kustomization.yaml",
    "kind-config.yaml",
    "dagster-values.yaml",
    "raycluster.yaml",  # a KubeRay CRD: validated in test_raycluster.py
}
# ConfigMaps that carry a verbatim copy of a file kustomize cannot read: file -> (key, source).
COPIES = {
    K8S_DIR / "minio/setup-script-configmap.yaml": ("minio-setup.sh", LOCAL_DIR / "minio-setup.sh"),
    K8S_DIR / "postgres/init-configmap.yaml": (
        "init-databases.sql",
        COMPOSE_DIR / "postgres/init-databases.sql",
    ),
}
REQUIRED_DP = (
    "DP_S3_ENDPOINT",
    "DP_S3_ACCESS_KEY",
    "DP_S3_SECRET_KEY",
    "DP_BUCKET",
    "DP_CATALOG_URI",
)


class ManifestError(Exception):
    """A Kubernetes object does not validate against the schemas (or has no schema)."""


def load_documents(path: Path) -> list[dict[str, Any]]:
    """All non-empty YAML documents of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def validate_manifest(obj: Mapping[str, Any], version: str = K8S_VERSION) -> None:
    """Validate one object strictly; raise ManifestError naming the object and the field.

    An unknown kind or apiVersion is an error here (the library only warns about it).
    """
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(dict(obj), version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        raise ManifestError(f"{name}: {path}: {exc.message}") from exc
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise ManifestError(f"{name}: {exc.message}") from exc


def validate_fragment(fragment: Any, schema: str, version: str = K8S_VERSION) -> None:
    """Validate part of an object (e.g. `configmapenvsource-v1`) against its strict schema."""
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    folder = root / f"v{version}-local-strict"
    contents = json.loads((folder / f"{schema}.json").read_text())
    definitions = json.loads((folder / "_definitions.json").read_text())
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(contents) @ Registry())
    try:
        jsonschema.Draft202012Validator(contents, registry=registry).validate(fragment)
    except jsonschema.ValidationError as exc:
        raise ManifestError(f"{schema}: {exc.message}") from exc


def sync_copies() -> list[Path]:
    """Rewrite each ConfigMap copy (COPIES) from its source file; return the files changed."""
    changed = []
    for path, (key, source) in COPIES.items():
        text = path.read_text()
        head = text[: text.index(f"  {key}: |\n")]
        lines = source.read_text().splitlines()
        body = "".join(f"    {line}\n" if line.strip() else "\n" for line in lines)
        if (new := f"{head}  {key}: |\n{body}") != text:
            path.write_text(new)
            changed.append(path)
    return changed


def is_pinned(image: str) -> bool:
    """True for `name:tag` with a versioned tag (a digit in it, not `latest`)."""
    name, _, tag = image.rpartition(":")
    return bool(name) and tag != "latest" and "/" not in tag and any(c.isdigit() for c in tag)


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())


@functools.cache
def kubernetes_objects() -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Every object of every resource the kustomization lists, with its file (read once)."""
    return tuple(
        (K8S_DIR / rel, doc)
        for rel in kustomization()["resources"]
        for doc in load_documents(K8S_DIR / rel)
    )


def find_object(kind: str, name: str) -> dict[str, Any]:
    for _, obj in kubernetes_objects():
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise KeyError(f"no {kind}/{name} in the kustomization")


def object_data(obj: Mapping[str, Any]) -> dict[str, str]:
    """The key/value pairs of a ConfigMap or Secret (`data` base64-decoded for Secrets)."""
    if obj["kind"] == "ConfigMap":
        return dict(obj.get("data", {}))
    decoded = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
    return {**decoded, **obj.get("stringData", {})}


def container_environment(container: Mapping[str, Any]) -> dict[str, str]:
    """The environment a container gets from env and envFrom, resolved from the manifests."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", "configMapRef") if "configMapRef" in source else ("Secret", "secretRef")
        )
        env.update(object_data(find_object(kind, source[ref]["name"])))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref_kind = "ConfigMap" if "configMapKeyRef" in var["valueFrom"] else "Secret"
        ref = var["valueFrom"]["configMapKeyRef" if ref_kind == "ConfigMap" else "secretKeyRef"]
        env[var["name"]] = object_data(find_object(ref_kind, ref["name"]))[ref["key"]]
    return env


@functools.cache
def helm_values() -> dict[str, Any]:
    """infra/kubernetes/dagster-values.yaml (read once; do not mutate)."""
    return yaml.safe_load((K8S_DIR / "dagster-values.yaml").read_text())


def user_deployment() -> dict[str, Any]:
    """The one user-code deployment of the Helm values."""
    (deployment,) = helm_values()["dagster-user-deployments"]["deployments"]
    return deployment


def run_launcher() -> dict[str, Any]:
    """The K8sRunLauncher config of the Helm values (what run pods get)."""
    return helm_values()["runLauncher"]["config"]["k8sRunLauncher"]


def helm_environment(block: Mapping[str, Any]) -> dict[str, str]:
    """Environment of a chart block (env, envConfigMaps, envSecrets), resolved from manifests."""
    env: dict[str, str] = {}
    for ref in block.get("envConfigMaps", []):
        env.update(object_data(find_object("ConfigMap", ref["name"])))
    for ref in block.get("envSecrets", []):
        env.update(object_data(find_object("Secret", ref["name"])))
    extra = block.get("env") or {}
    env.update(extra if isinstance(extra, dict) else {v["name"]: v["value"] for v in extra})
    return env


# -- Docker Compose ----------------------------------------------------------------------------
_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


def compose_variables(text: str) -> set[str]:
    """Names of the ${VAR} / $VAR the text interpolates (`$$` is a literal dollar)."""
    return {m["braced"] or m["bare"] for m in _VAR.finditer(text) if not m["escaped"]}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose-style interpolation of one string; a variable without value or default fails."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        if match["op"] and match["op"].endswith("-") and not env.get(name):
            return match["arg"]
        if name not in env:
            raise KeyError(f"${{{name}}} has no value")
        return env[name]

    return _VAR.sub(replace, value)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


@functools.cache
def load_compose(path: Path = COMPOSE_DIR / "docker-compose.yml") -> dict[str, Any]:
    """A compose file (read once; do not mutate, deep-copy to break it)."""
    return yaml.safe_load(path.read_text())


def services() -> dict[str, Any]:
    """The services of infra/compose/docker-compose.yml."""
    return load_compose()["services"]


@functools.cache
def env_example() -> dict[str, str]:
    """infra/compose/.env.example: the values the compose file is checked with."""
    return read_env_file(COMPOSE_DIR / ".env.example")


def service_environment(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """A service's `environment` (mapping or list form), interpolated with `env`."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {k: interpolate(str(v), env) for k, v in raw.items()}


def compose_problems(compose: Mapping[str, Any], variables: Iterable[str], base: Path) -> list[str]:
    """What is wrong with a compose file: unknown services, volumes, files or variables."""
    problems: list[str] = []
    services = compose.get("services", {})
    volumes = set(compose.get("volumes") or {})
    known = set(variables)
    for var in sorted(compose_variables(yaml.safe_dump(compose)) - known):
        problems.append(f"${{{var}}} is not in .env.example")
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep, spec in deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps):
            if dep not in services:
                problems.append(f"{name} depends on undefined service {dep}")
            elif spec.get("condition") == "service_healthy" and "healthcheck" not in services[dep]:
                problems.append(f"{name} waits for {dep} to be healthy; it has no healthcheck")
        if "image" not in svc and "build" not in svc:
            problems.append(f"{name} has neither image nor build")
        for mount in svc.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                if not (base / source).exists():
                    problems.append(f"{name} mounts missing file {source}")
            elif source not in volumes:
                problems.append(f"{name} mounts undeclared volume {source}")
    return problems


if __name__ == "__main__":
    import sys

    for changed_path in sync_copies():
        sys.stdout.write(f"updated {changed_path.relative_to(REPO_ROOT)}\n")
