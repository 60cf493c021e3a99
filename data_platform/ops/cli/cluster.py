"""`data-platform cluster up|down|status`: a local multi-node Ray cluster on 127.0.0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from data_platform.ray.targets import ClusterState

cluster_app = typer.Typer(
    help="A local Ray cluster (a head and worker nodes) for `executor: ray`.",
    no_args_is_help=True,
)
console = Console()


def _print_connect(state: ClusterState) -> None:
    console.print(f"head at {state.address}; token in {state.token_file}")
    if state.dashboard:
        console.print(f"Jobs API (dashboard) at {state.dashboard}: DP_DAGSTER_EXECUTOR=ray uses it")
    console.print("point the assets at it (and a Python driver, for the RAY_* lines):")
    console.print(f"  export DP_RAY_ADDRESS={state.address}")
    for key, value in state.driver_env().items():
        console.print(f"  export {key}={value}")


@cluster_app.command()
def up(
    workers: Annotated[int, typer.Option(min=0, help="worker nodes besides the head")] = 2,
    cpus: Annotated[int, typer.Option(min=1, help="CPUs each node offers")] = 1,
    object_store_mb: Annotated[int, typer.Option(min=80, help="object store per node")] = 200,
) -> None:
    """Start a head and WORKERS worker nodes, each its own `ray start` process."""
    from data_platform.ops.stack.ray_cluster import local_cluster
    from data_platform.settings import Settings

    cluster = local_cluster(Settings(), workers=workers, cpus=cpus, object_store_mb=object_store_mb)
    state = cluster.up()
    console.print(f"Ray cluster up: {', '.join(f'{n} (pid {p})' for n, p in state.nodes.items())}")
    _print_connect(state)


@cluster_app.command()
def down() -> None:
    """Stop every node of the local cluster by its PID."""
    from data_platform.ops.stack.ray_cluster import local_cluster
    from data_platform.settings import Settings

    stopped = local_cluster(Settings()).down()
    console.print("stopped" if stopped else "not running")


@cluster_app.command()
def status() -> None:
    """Show the local cluster's nodes and PIDs, and the address the assets use."""
    from data_platform.ops.stack.process import pid_alive
    from data_platform.ops.stack.ray_cluster import local_cluster
    from data_platform.settings import Settings

    settings = Settings()
    state = local_cluster(settings).state()
    if settings.ray_address:
        console.print(f"assets use: the cluster at {settings.ray_address} (DP_RAY_ADDRESS)")
    else:
        console.print("assets use: a Ray started in the run's process (DP_RAY_ADDRESS unset)")
    if state is None:
        console.print("local cluster: down")
        raise typer.Exit(0)
    for name, pid in state.nodes.items():
        console.print(f"  {name:<10} pid {pid:<8} {'up' if pid_alive(pid) else 'gone'}")
    _print_connect(state)
