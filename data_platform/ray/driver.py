"""This process as the driver of a Ray cluster at an address, for the length of a `with`.

Two things Ray only takes from its process state, set here for the connection and put
back after it:

- token auth: Ray reads `RAY_AUTH_MODE` and `RAY_AUTH_TOKEN_PATH` from the environment
  and caches them; given a token file they are set and the caches reloaded (what Ray's
  own `ray.init` does when it turns token auth on).
- loopback: Ray rewrites an address on 127.0.0.1 to the machine's routable IP unless its
  `ENABLE_RAY_CLUSTER` constant is off, and a local cluster listens on 127.0.0.1 only.

A process that is already a Ray driver (connected by its caller, or a Ray worker) keeps
its connection: nothing is set, and nothing is shut down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from data_platform.settings import scoped_library_env

LOOPBACK = ("127.0.0.1", "localhost")


def _reload_auth() -> None:
    # compiled (Cython) names that Ray's type stubs do not declare
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@contextmanager
def ray_driver(address: str, token_file: str | None = None) -> Iterator[Any]:
    """Connect to the cluster at `address` (host:port); yields the `ray` module.

    Args:
        address: the head's GCS address, e.g. ``127.0.0.1:6379`` or a KubeRay head service.
        token_file: the cluster's auth token file (`Settings.ray_token_file` for an external
            cluster, Ray's `RAY_AUTH_TOKEN_PATH`); None: no token.
    """
    import ray
    from ray._private import ray_constants

    if ray.is_initialized():
        yield ray
        return
    saved_cluster = ray_constants.ENABLE_RAY_CLUSTER
    with ExitStack() as scope:
        if token_file:
            scope.callback(_reload_auth)  # runs last: after the variables are put back
            scope.enter_context(
                scoped_library_env({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": token_file})
            )
            _reload_auth()
        if address.rsplit(":", 1)[0] in LOOPBACK:
            ray_constants.ENABLE_RAY_CLUSTER = False
        try:
            ray.init(address=address, log_to_driver=False)
            yield ray
        finally:
            ray.shutdown()
            ray_constants.ENABLE_RAY_CLUSTER = saved_cluster
