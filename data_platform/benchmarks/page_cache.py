"""Cold reads: drop a file from the OS page cache and check that it is really gone.

`drop_from_cache` flushes the file (`fsync`: dirty pages cannot be dropped) and asks the
kernel to forget its pages (`posix_fadvise(POSIX_FADV_DONTNEED)`), then counts the pages
still resident with `mincore(2)`. No root needed, unlike `/proc/sys/vm/drop_caches`. A
virtual machine's host may still cache the disk: "cold" means cold for this kernel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
from functools import cache
from pathlib import Path

COLD_RESIDENT_MAX = 0.01  # at most 1% of the file's pages left in memory counts as cold


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    return libc


def resident_fraction(path: Path | str) -> float | None:
    """Share of the file's pages in the page cache (0..1); None where mincore is unavailable."""
    libc = _libc()
    size = os.path.getsize(path)
    if libc is None or not hasattr(mmap, "PROT_READ"):
        return None
    if size == 0:
        return 0.0
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr is None or addr == ctypes.c_void_p(-1).value:
            return None
        try:
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = (ctypes.c_ubyte * pages)()
            if libc.mincore(ctypes.c_void_p(addr), size, vector) != 0:
                return None
            resident = sum(1 for byte in bytes(vector) if byte & 1)
            return resident / pages
        finally:
            libc.munmap(ctypes.c_void_p(addr), size)
    finally:
        os.close(fd)


def drop_from_cache(path: Path | str) -> bool:
    """Evict a file from the page cache; True when verified cold, False when it stays warm.

    Returns False (warm) where the OS has no `posix_fadvise` or the check cannot run, so a
    caller reports the load as warm rather than claiming a cold read it did not get.
    """
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    left = resident_fraction(path)
    return left is not None and left <= COLD_RESIDENT_MAX
