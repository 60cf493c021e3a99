"""The Kubernetes manifests validate against the Kubernetes schemas, offline (no cluster here)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml

from data_platform_tests.infra.infra_files import (
    K8S_DIR,
    K8S_VERSION,
    NOT_MANIFESTS,
    ManifestError,
    find_object,
    is_pinned,
    kubernetes_objects,
    kustomization,
    load_documents,
    validate_manifest,
)

# Listed from disk, not parsed, so that a broken file fails its own test, not the collection.
MANIFEST_FILES = sorted(p for p in K8S_DIR.rglob("*.yaml") if p.name not in NOT_MANIFESTS)


def objects() -> list[dict]:
    return [obj for _, obj in kubernetes_objects()]


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: str(p.relative_to(K8S_DIR)))
def test_manifest_validates_against_kubernetes_schema(path):
    docs = load_documents(path)
    assert docs
    errors = []
    for obj in docs:
        try:
            validate_manifest(obj)
        except ManifestError as exc:
            errors.append(str(exc))
    assert errors == []


def _broken_statefulset(mutate):
    obj = copy.deepcopy(find_object("StatefulSet", "minio"))
    mutate(obj)
    return obj


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o["spec"].update(replicas="one"), "spec.replicas"),
        (lambda o: o["spec"].pop("selector"), "'selector' is a required property"),
        (
            lambda o: o["spec"]["template"]["spec"]["containers"][0].update(imagee="minio"),
            "Additional properties are not allowed",
        ),
        (lambda o: o.update(kind="MinioTenant"), "Couldn't find schema"),
    ],
    ids=["wrong-type", "missing-required", "unknown-field", "unknown-kind"],
)
def test_validator_rejects_broken_manifest(mutate, message):
    with pytest.raises(ManifestError, match=re.escape(message)):
        validate_manifest(_broken_statefulset(mutate))


def test_kustomization_lists_every_manifest_and_only_existing_files():
    listed = set(kustomization()["resources"])
    on_disk = {
        str(p.relative_to(K8S_DIR)) for p in K8S_DIR.rglob("*.yaml") if p.name not in NOT_MANIFESTS
    }
    assert listed == on_disk
    assert (
        kustomization()["namespace"]
        == find_object("Namespace", "data-platform")["metadata"]["name"]
    )


def test_kind_node_runs_the_validated_kubernetes_version():
    config = yaml.safe_load((K8S_DIR / "kind-config.yaml").read_text())
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    (node,) = config["nodes"]
    assert node["role"] == "control-plane"
    tag = node["image"].removeprefix("kindest/node:v")
    assert tag.split(".")[:2] == K8S_VERSION.split(".")[:2]
    assert K8S_VERSION in kubernetes_validate.utils.all_versions()


def test_minio_statefulset_has_volume_claim_and_health_probes():
    sts = find_object("StatefulSet", "minio")
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/minio/health/ready", "port": "api"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/minio/health/live", "port": "api"}
    assert ports == {"api": 9000, "console": 9001}
    args = container["args"]
    assert args[args.index("--address") + 1] == f":{ports['api']}"
    assert args[args.index("--console-address") + 1] == f":{ports['console']}"
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == args[1] == "/data"
    assert claim["spec"]["resources"]["requests"]["storage"]


def test_services_select_their_statefulsets():
    services = {o["metadata"]["name"]: o for o in objects() if o["kind"] == "Service"}
    for name in ("minio", "postgres"):
        sts = find_object("StatefulSet", name)
        labels = sts["spec"]["template"]["metadata"]["labels"]
        assert services[sts["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"
        container_ports = {
            p["name"] for c in sts["spec"]["template"]["spec"]["containers"] for p in c["ports"]
        }
        for svc in (services[name], services[sts["spec"]["serviceName"]]):
            assert svc["spec"]["selector"].items() <= labels.items()
            assert {p["targetPort"] for p in svc["spec"]["ports"]} <= container_ports
    minio_ports = {p["name"]: p["port"] for p in services["minio"]["spec"]["ports"]}
    assert minio_ports == {"api": 9000, "console": 9001}


def _references(node):
    """(kind, name, key) of every ConfigMap/Secret a pod spec refers to."""
    if isinstance(node, dict):
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if field in node:
                yield kind, node[field]["name"], None
        for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if field in node:
                yield kind, node[field]["name"], node[field]["key"]
        if "configMap" in node and "name" in node["configMap"]:
            yield "ConfigMap", node["configMap"]["name"], None
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_every_configmap_and_secret_reference_resolves():
    refs = list(_references(objects()))
    assert len(refs) >= 10
    for kind, name, key in refs:
        obj = find_object(kind, name)
        if key is not None:
            assert key in {**obj.get("data", {}), **obj.get("stringData", {})}, (kind, name, key)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_build_renders_valid_objects_in_one_namespace():
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S_DIR)], capture_output=True, text=True, check=True
    ).stdout
    rendered = [doc for doc in yaml.safe_load_all(out) if doc]
    assert len(rendered) == len(objects())
    for obj in rendered:
        validate_manifest(obj)
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "data-platform"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "data-platform"


def test_images_are_pinned():
    images = [
        c["image"]
        for obj in objects()
        if obj["kind"] in ("StatefulSet", "Job")
        for c in obj["spec"]["template"]["spec"]["containers"]
    ]
    assert len(images) == 3
    for image in images:
        assert is_pinned(image), image
    assert not is_pinned("minio/minio:latest")
    assert not is_pinned("localhost:5000/minio")
