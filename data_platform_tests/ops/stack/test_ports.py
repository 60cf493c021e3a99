"""Ports for the platform's servers come from below the kernel's ephemeral range.

There, every outgoing connection of every process takes its source port: a port found free
there could be taken by a client before our server binds it, and a SeaweedFS that cannot
bind one of its sixteen ports exits (seen in CI as connections refused after a restart).
"""

from __future__ import annotations

from pathlib import Path

from data_platform.ops.stack.process import LOWEST_PORT, free_port, free_port_block, port_is_free
from data_platform.ops.stack.seaweed import GRPC_OFFSET, PORTS_PER_SERVER


def _ephemeral() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_free_ports_are_below_the_ephemeral_range():
    low, _ = _ephemeral()
    ports = [free_port() for _ in range(50)]
    assert all(LOWEST_PORT <= port < low for port in ports), ports
    assert all(port_is_free(port) for port in ports)
    assert len(set(ports)) > 40  # drawn at random, not one fixed port


def test_a_store_block_and_its_grpc_ports_are_below_the_ephemeral_range():
    low, _ = _ephemeral()
    for _ in range(20):
        base = free_port_block(PORTS_PER_SERVER, offsets=(0, GRPC_OFFSET))
        assert LOWEST_PORT <= base
        assert base + GRPC_OFFSET + PORTS_PER_SERVER <= low
