"""Start and stop local server processes: own session, PID file, loopback ports."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # servers (Go's net package included) bind with SO_REUSEADDR: a port whose old
        # connections sit in TIME_WAIT is free for them, so it is free for us too
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


# Not the module-level `random`: test runners seed it, identically in parallel workers.
_RANDOM = random.SystemRandom()
# above the well-known services (PostgreSQL, Redis, RabbitMQ...) and Ray's worker ports
# (10002-19999 by default)
LOWEST_PORT = 20000


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (source ports of outgoing connections)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _any_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port() -> int:
    """A free port for a server of ours (see `free_port_block`)."""
    return free_port_block(1)


def free_port_block(size: int, offsets: Sequence[int] = (0,), tries: int = 200) -> int:
    """A base port B such that B..B+size-1 (and each plus every offset) are all free.

    Ports are drawn below the ephemeral range: there, any outgoing connection of any
    process may take a port found free here before our server binds it (a server that
    then fails to bind one of its ports exits, seen as refused connections). Only where
    that range leaves no room are ports taken from the kernel's own choice.
    """
    top = _ephemeral_low() - max(offsets) - size
    for _ in range(tries):
        base = _RANDOM.randrange(LOWEST_PORT, top) if top > LOWEST_PORT else _any_free_port()
        if base + max(offsets) + size >= 65535:
            continue
        ports = [base + i + off for i in range(size) for off in offsets]
        if all(port_is_free(p) for p in ports):
            return base
    raise RuntimeError(f"no block of {size} free ports found in {tries} tries")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still answers kill(0); reap it if it is ours
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner can enter (0700), created if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only (0600) from its first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def start_process(
    args: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    umask: int = -1,
) -> int:
    """Start `args` in its own session (so signals reach it, not us) and record its PID.

    The log and PID files are the owner's only (0600). `umask` (e.g. 0o077) is the
    process's own, for what it writes; -1 keeps ours.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "ab") as log:
        proc = subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
            restore_signals=True,
            umask=umask,
        )
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    write_private(pid_file, str(proc.pid))
    return proc.pid


def stop_pid(pid: int, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
    """Signal the process group of `pid`, wait, then SIGKILL it. True if it was running."""
    if not pid_alive(pid):
        return False
    for signum in (sig, signal.SIGKILL):
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, signum)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
    return True


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


class ProbeFailed(RuntimeError):
    """Raised by a probe when waiting longer cannot help (the server process exited)."""


def wait_until(
    probe: Callable[[], bool], *, timeout: float, interval: float = 0.25, what: str = "ready"
) -> None:
    """Call `probe` until it returns True; bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except ProbeFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - a probe may fail in any way until ready
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(f"not {what} after {timeout:.0f}s (last error: {last_error!r})")


class ManagedServer:
    """What every local server the platform starts shares: a PID file and a state file.

    Subclasses set `state_file`, `pid_file` and the `state_type` dataclass (which has a
    `pid` field) and write the state once the server answers.
    """

    state_type: ClassVar[type]
    state_file: Path
    pid_file: Path

    def down(self) -> bool:
        """Stop the server by its PID (its data is kept). True if one was running."""
        pid = read_pid(self.pid_file)
        stopped = stop_pid(pid) if pid else False
        self.pid_file.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)
        return stopped

    def state(self) -> Any:
        """The running server's state, or None (a stale state file is removed)."""
        try:
            state = self.state_type(**json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            return None
        if not pid_alive(state.pid):
            self.state_file.unlink(missing_ok=True)
            return None
        return state
