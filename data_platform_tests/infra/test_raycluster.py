"""The KubeRay RayCluster, validated offline: its shape, and its pod templates as Kubernetes'."""

from __future__ import annotations

import copy

import pytest
import yaml

from data_platform_tests.infra.infra_files import (
    K8S_DIR,
    ManifestError,
    find_object,
    is_pinned,
    load_documents,
    object_data,
    validate_fragment,
    validate_manifest,
)

RAYCLUSTER = K8S_DIR / "ray" / "raycluster.yaml"
NETWORK_POLICY = K8S_DIR / "ray" / "network-policy.yaml"


def raycluster() -> dict:
    (doc,) = list(yaml.safe_load_all(RAYCLUSTER.read_text()))
    return doc


def groups(cluster: dict) -> list[dict]:
    return [cluster["spec"]["headGroupSpec"], *cluster["spec"]["workerGroupSpecs"]]


def test_raycluster_shape_and_pod_templates_validate():
    cluster = raycluster()
    assert (cluster["apiVersion"], cluster["kind"]) == ("ray.io/v1", "RayCluster")
    assert cluster["spec"]["rayVersion"] == "2.60.0"  # the drivers' Ray (pyproject pin)
    for group in groups(cluster):
        validate_fragment(group["template"], "podtemplatespec-v1")
        assert all(isinstance(v, str) for v in group["rayStartParams"].values())
        for container in group["template"]["spec"]["containers"]:
            assert is_pinned(container["image"])
            env = {e["name"]: e for e in container["env"]}
            assert env["RAY_AUTH_MODE"]["value"] == "token"
            assert env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
            refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
            assert refs == {"data-platform-config", "data-platform-secrets"}
    workers = cluster["spec"]["workerGroupSpecs"]
    assert all(w["minReplicas"] <= w["replicas"] <= w["maxReplicas"] for w in workers)


def test_the_platform_points_at_the_head_service():
    config = object_data(find_object("ConfigMap", "data-platform-config"))
    name = raycluster()["metadata"]["name"]
    assert config["DP_RAY_ADDRESS"] == f"{name}-head-svc:6379"  # KubeRay's head service


def test_the_jobs_api_is_served_to_the_platform_pods_only():
    """DP_DAGSTER_EXECUTOR=ray submits steps to the head's dashboard (port 8265): it listens on
    the pod's address, the ConfigMap names it, and a NetworkPolicy lets only the platform's
    pods and the Ray pods reach the head."""
    cluster = raycluster()
    head = cluster["spec"]["headGroupSpec"]
    assert head["rayStartParams"]["dashboard-host"] == "0.0.0.0"  # pod address: the service
    (container,) = head["template"]["spec"]["containers"]
    assert {"containerPort": 8265, "name": "dashboard"} in container["ports"]
    config = object_data(find_object("ConfigMap", "data-platform-config"))
    name = cluster["metadata"]["name"]
    assert config["DP_RAY_JOBS_ADDRESS"] == f"http://{name}-head-svc:8265"
    (policy,) = load_documents(NETWORK_POLICY)
    validate_manifest(policy)
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "ray.io/cluster": name,  # KubeRay's labels on the head pod
        "ray.io/node-type": "head",
    }
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    allowed = [peer["podSelector"]["matchLabels"] for peer in rule["from"]]
    assert allowed == [{"app.kubernetes.io/part-of": "data-platform"}, {"ray.io/cluster": name}]
    assert sorted(port["port"] for port in rule["ports"]) == [6379, 8265]


def test_a_broken_pod_template_is_refused():
    template = copy.deepcopy(raycluster()["spec"]["headGroupSpec"]["template"])
    template["spec"]["containers"][0]["imagee"] = "typo"
    with pytest.raises(ManifestError, match="Additional properties"):
        validate_fragment(template, "podtemplatespec-v1")
