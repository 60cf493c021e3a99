"""A hardware and library-version fingerprint, flattened into every benchmark result row.

Two numbers are only comparable when they come from the same machine and the same library
versions; `fp_id` is a short hash of everything else, so a table can be grouped by it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from functools import cache
from importlib import metadata

import psutil

FORMAT_PACKAGES = ("polars", "pandas", "pyarrow", "numpy", "fastavro", "tables")
INFERENCE_PACKAGES = ("scikit-learn", "numpy", "scipy", "polars", "ray")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def fingerprint(packages: tuple[str, ...] = FORMAT_PACKAGES) -> dict[str, str | int | float]:
    """Machine and versions as flat ``fp_*`` columns (same value for the whole process).

    Args:
        packages: distributions whose installed versions go into ``fp_versions``.

    Returns:
        ``fp_id`` (12 hex digits over the other fields), ``fp_cpu``, ``fp_cores`` (usable by
        this process), ``fp_memory_gb``, ``fp_os``, ``fp_python``, ``fp_versions``
        (``name=version`` joined by ``,``).
    """
    return dict(_fingerprint(packages))


@cache
def _fingerprint(packages: tuple[str, ...]) -> dict[str, str | int | float]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    fields: dict[str, str | int | float] = {
        "fp_cpu": _cpu_model(),
        "fp_cores": int(cores or 1),
        "fp_memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "fp_os": platform.platform(),
        "fp_python": platform.python_version(),
        "fp_versions": ",".join(f"{name}={_version(name)}" for name in packages),
    }
    digest = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    return {"fp_id": digest, **fields}
