"""A local multi-node Ray cluster for development and tests: a head and worker nodes.

Each node is its own `ray start --block` process (through `ray_node`, which keeps it on
127.0.0.1), in its own session, its PID recorded, stopped by that PID. Everything lives
under one root folder (by default `<home>/ray_cluster`): Ray's temp dir (sessions,
sockets, logs, and its `ray_current_cluster` file, so a bare `ray.init()` elsewhere on the
machine, which reads `/tmp/ray/ray_current_cluster`, never finds this cluster), the node
logs, and the token. Token authentication is on (`RAY_AUTH_MODE=token`, Ray >= 2.52): a
driver needs the token file (`driver_env()`). Each node declares `dp_node_<name>: 1` so
work can be pinned to or spread over nodes, and a small object store. The head serves Ray's
Jobs API (its dashboard, on 127.0.0.1), which dagster-ray submits Dagster steps to.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from data_platform.ops.stack.process import free_port, pid_alive, start_process, stop_pid
from data_platform.ray.targets import ClusterState, local_cluster_root, read_cluster_state
from data_platform.settings import Settings, child_env

NODE_IP = "127.0.0.1"
MAX_ROOT_CHARS = 60  # Ray's unix sockets live below it; AF_UNIX paths stop at 107 bytes
READY_LINE = "Ray runtime started."
NODE_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # processes the node starts stay on loopback
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
}


def node_resource(name: str) -> str:
    """The custom resource only node `name` has (one unit): pin work with a fraction of it."""
    return f"dp_node_{name}"


class LocalRayCluster:
    """A head and `workers` worker nodes on 127.0.0.1, each `cpus` CPUs."""

    def __init__(
        self, root: Path, *, workers: int = 2, cpus: int = 1, object_store_mb: int = 200
    ) -> None:
        self.root = root.expanduser().resolve()
        self.workers = workers
        self.cpus = cpus
        self.object_store_mb = object_store_mb
        self.state_file = self.root / "state.json"
        self.token_file = self.root / "token"
        self.temp_dir = self.root / "tmp"

    @property
    def node_names(self) -> list[str]:
        return ["head"] + [f"worker{i}" for i in range(1, self.workers + 1)]

    def state(self) -> ClusterState | None:
        """The running cluster, or None (a cluster whose head is gone is cleaned up)."""
        state = read_cluster_state(self.state_file)
        if state is None and self.state_file.exists():
            self.down()  # its head is gone: stop what is left, forget it
        return state

    def up(self, timeout: float = 120.0) -> ClusterState:
        """Start the head, then each worker; wait until each says it runs. Idempotent."""
        running = self.state()
        if running is not None:
            return running
        if len(str(self.root)) > MAX_ROOT_CHARS:
            raise ValueError(
                f"cluster folder {self.root} is longer than {MAX_ROOT_CHARS} characters: "
                "Ray's socket paths below it would pass the 107-byte AF_UNIX limit"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.token_file.write_text(secrets.token_hex(32))
        self.token_file.chmod(0o600)
        address = f"{NODE_IP}:{free_port()}"
        dashboard = f"http://{NODE_IP}:{free_port()}"
        pids: dict[str, int] = {}
        state = ClusterState(address, str(self.root), str(self.token_file), pids, dashboard)
        try:
            # one node after another: Ray gives a starting raylet 30 s to register, which
            # two nodes starting together on a busy 2-core machine can miss; one retry each
            for name in self.node_names:
                for attempt in (1, 2):
                    pids[name] = self._start(name, state)
                    self._write(state)  # a failed start still leaves PIDs for `down`
                    try:
                        self._wait_ready(name, pids[name], timeout)
                        break
                    except RuntimeError:
                        stop_pid(pids[name], timeout=5.0)
                        if attempt == 2:
                            raise
        except BaseException:
            self.down()
            raise
        return state

    def down(self) -> bool:
        """Stop every node by its PID (SIGTERM, then SIGKILL). True if any was running."""
        try:
            nodes = json.loads(self.state_file.read_text())["nodes"]
        except (FileNotFoundError, KeyError, ValueError):
            return False
        # all at once: a node takes seconds to stop, and a head alone waits for its workers
        with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
            stopped = list(pool.map(lambda pid: stop_pid(int(pid), timeout=8.0), nodes.values()))
        self.state_file.unlink(missing_ok=True)
        return any(stopped)

    # -- nodes -------------------------------------------------------------------------------
    def log_file(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def _start(self, name: str, state: ClusterState) -> int:
        args = [
            sys.executable,
            "-m",
            "data_platform.ops.stack.ray_node",
            "start",
            "--block",
            "--node-ip-address",
            NODE_IP,
            "--num-cpus",
            str(self.cpus),
            "--resources",
            json.dumps({node_resource(name): 1}),
            "--object-store-memory",
            str(self.object_store_mb * 1024 * 1024),
            "--temp-dir",
            str(self.temp_dir),
            "--disable-usage-stats",
            # Ray's fixed default ports would collide with other nodes and other Rays
            "--dashboard-agent-listen-port",
            str(free_port()),
            "--dashboard-agent-grpc-port",
            str(free_port()),
            "--metrics-export-port",
            str(free_port()),
            "--runtime-env-agent-port",
            str(free_port()),
            "--min-worker-port",
            "0",
            "--max-worker-port",
            "0",
        ]
        if name == "head":
            port = state.address.rsplit(":", 1)[1]
            # the dashboard serves Ray's Jobs API (dagster-ray submits Dagster steps to it)
            dashboard_port = state.dashboard.rsplit(":", 1)[1]
            args += ["--head", "--port", port, "--include-dashboard", "true"]
            args += ["--dashboard-host", NODE_IP, "--dashboard-port", dashboard_port]
            args += ["--ray-client-server-port", str(free_port())]
        else:
            args += ["--address", state.address]
        env = child_env(**NODE_ENV, RAY_AUTH_TOKEN_PATH=str(self.token_file))
        env.pop("RAY_ADDRESS", None)
        env.pop("RAY_AUTH_TOKEN", None)  # the file is the one token
        # this environment's commands first: a Ray job's entrypoint (dagster-ray's
        # `dagster api execute_step`) runs the venv's `dagster` even when it is not activated
        env["PATH"] = os.pathsep.join(
            filter(None, [str(Path(sys.executable).parent), env.get("PATH")])
        )
        log = self.log_file(name)
        log.unlink(missing_ok=True)
        return start_process(args, log_file=log, pid_file=self.root / f"{name}.pid", env=env)

    def _wait_ready(self, name: str, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log = self.log_file(name)
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            if READY_LINE in text:
                return
            if not pid_alive(pid):
                tail = "\n".join(text.splitlines()[-15:])
                raise RuntimeError(f"Ray node {name} exited while starting:\n{tail}")
            time.sleep(0.25)
        raise TimeoutError(f"Ray node {name} not started after {timeout:.0f}s (log: {log})")

    def _write(self, state: ClusterState) -> None:
        self.state_file.write_text(json.dumps(asdict(state), indent=2))


def local_cluster(settings: Settings, **options: int) -> LocalRayCluster:
    """The cluster of `data-platform cluster up`: under `<home>/ray_cluster`."""
    return LocalRayCluster(local_cluster_root(settings), **options)
