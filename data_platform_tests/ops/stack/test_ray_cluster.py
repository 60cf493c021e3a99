"""The local Ray cluster: three nodes on loopback only, token auth, work on every node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import psutil
import pytest

from data_platform.ops.stack.ray_cluster import node_resource
from data_platform.ray.driver import ray_driver
from data_platform.ray.targets import ClusterState

pytestmark = [pytest.mark.cluster]


def _node_processes(state: ClusterState) -> list[psutil.Process]:
    groups = set(state.nodes.values())
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) in groups:
                found.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def _where(_: int) -> str:
    import ray

    time.sleep(0.2)
    return ray.get_runtime_context().get_node_id()


def test_every_node_listens_on_loopback_only(ray_cluster):
    listening = []
    for proc in _node_processes(ray_cluster):
        try:
            listening += [c.laddr for c in proc.net_connections("inet") if c.status == "LISTEN"]
        except psutil.Error:
            continue
    assert len(listening) >= 6, listening  # GCS, three raylets, agents...
    hosts = {addr.ip for addr in listening}
    assert hosts <= {"127.0.0.1", "::ffff:127.0.0.1"}, hosts


def test_tasks_run_on_every_node(ray_cluster):
    with ray_driver(ray_cluster.address, ray_cluster.token_file) as ray:
        alive = [n for n in ray.nodes() if n["Alive"]]
        assert len(alive) == 3
        where = ray.remote(num_cpus=1)(_where)
        pinned = {
            name: ray.get(where.options(resources={node_resource(name): 0.01}).remote(0))
            for name in ray_cluster.nodes
        }
        assert len(set(pinned.values())) == 3  # each node's resource is on its own node
        spread = ray.get([where.options(scheduling_strategy="SPREAD").remote(i) for i in range(6)])
        assert len(set(spread)) > 1
    assert not ray.is_initialized()  # the driver disconnected on leaving


PROBE = """
import json, os, sys
from ray._private.services import get_ray_address_from_environment
found = get_ray_address_from_environment(None, None)  # what a bare ray.init() would join
import ray
from ray._private import ray_constants
ray_constants.ENABLE_RAY_CLUSTER = False
try:
    ray.init(address=sys.argv[1], log_to_driver=False)
    refused = False
except Exception as exc:
    chain = []
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    refused = any("InvalidAuthToken" in text for text in chain)
print(json.dumps({"found": found, "refused": refused}))
"""


def test_a_bare_ray_init_does_not_find_it_and_no_token_is_refused(ray_cluster):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["RAY_AUTH_MODE"] = "disabled"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, ray_cluster.address],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["found"] != ray_cluster.address
    assert probe["refused"], out.stderr[-2000:]
