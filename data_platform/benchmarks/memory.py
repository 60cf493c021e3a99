"""Peak memory of one operation: the RSS high-water mark, including native allocations.

`tracemalloc` only sees Python's allocator, so Arrow, polars (Rust) and PyTables buffers
are invisible to it. The kernel's own high-water mark of the resident set (`VmHWM` in
`/proc/self/status`) sees everything, costs nothing while the operation runs and misses
no short spike; writing ``5`` to `/proc/self/clear_refs` resets it (Linux >= 4.0). Where
that is not possible, a thread samples RSS with psutil every millisecond (it can miss
spikes shorter than that and adds a little load).

`run_isolated` runs an operation in a fresh spawned process: inside a long benchmark
process, allocator caches (jemalloc, mimalloc, glibc arenas) keep freed pages from earlier
cases, so a later case would reuse them and look smaller than it is.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import psutil

T = TypeVar("T")
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
SAMPLE_INTERVAL_S = 0.001


def _status_bytes(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_high_water() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Context manager: `peak_bytes` is the RSS high-water above the RSS at entry.

    Attributes:
        method: ``"vmhwm"`` (kernel high-water mark) or ``"psutil-sampling"``.
        baseline_bytes: RSS when the block started.
        peak_bytes: highest RSS during the block minus `baseline_bytes` (0 or more).
    """

    def __init__(self) -> None:
        self.method = ""
        self.baseline_bytes = 0
        self.peak_bytes = 0
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self._sampled = 0

    def __enter__(self) -> PeakRSS:
        self.baseline_bytes = self._process.memory_info().rss
        if _STATUS.exists() and _reset_high_water():
            self.method = "vmhwm"
        else:
            self.method = "psutil-sampling"
            self._sampled = self.baseline_bytes
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self._sampled = max(self._sampled, self._process.memory_info().rss)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sampler is not None:
            self._stop.set()
            self._sampler.join()
            peak = max(self._sampled, self._process.memory_info().rss)
        else:
            peak = _status_bytes("VmHWM")
        self.peak_bytes = max(0, peak - self.baseline_bytes)


def _child(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        conn.send((True, func(*args)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        conn.send((False, traceback.format_exc()))
    finally:
        conn.close()


def run_isolated(func: Callable[..., T], *args: Any, timeout_s: float = 1800.0) -> T:
    """`func(*args)` in a fresh spawned process; the process never outlives the call.

    Raises:
        TimeoutError: no answer within `timeout_s` (the process is killed).
        RuntimeError: `func` raised; the message holds the child's traceback.
    """
    ctx = get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, func, args), daemon=True)
    process.start()
    sender.close()
    try:
        # wait for an answer or the child's death, whichever comes first
        if not wait([receiver, process.sentinel], timeout_s):
            raise TimeoutError(f"{getattr(func, '__name__', func)} ran past {timeout_s} s")
        if receiver.poll():
            ok, value = receiver.recv()
        else:
            process.join(5)
            ok, value = False, f"child exited with code {process.exitcode} before answering"
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    if not ok:
        raise RuntimeError(f"isolated {getattr(func, '__name__', func)} failed:\n{value}")
    return cast(T, value)  # the pipe carried what func(*args) returned
