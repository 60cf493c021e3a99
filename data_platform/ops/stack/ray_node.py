"""`python -m data_platform.ops.stack.ray_node <ray start args>`: one node of the local cluster.

Ray's gRPC servers listen on loopback only when the node's IP is exactly 127.0.0.1, and
on every interface otherwise. But `ray start` replaces a loopback `--node-ip-address` (and
a loopback `--address`) with the machine's routable IP (ray-project/ray#26293, #59110), and
refuses to start a worker node when `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, the setting
that would keep loopback. So this launcher runs Ray's own `ray start` with two changes:
a loopback host is kept as given, and worker nodes are allowed. The environment keeps
`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` for every process the node starts, so those also
stay on loopback.
"""

from __future__ import annotations

from ray._private import ray_constants, services
from ray.scripts.scripts import main

_resolve = services.resolve_ip_for_localhost


def keep_loopback(host: str) -> str:
    """127.0.0.1 stays 127.0.0.1; any other host resolves as Ray would."""
    return host if host == "127.0.0.1" else _resolve(host)


if __name__ == "__main__":
    services.resolve_ip_for_localhost = keep_loopback
    ray_constants.ENABLE_RAY_CLUSTER = True  # a multi-node cluster, all of it on loopback
    main()
