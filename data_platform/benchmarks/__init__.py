"""Storage-format benchmark kernels: the cases registry, one call per case, a summary.

No Dagster here: an orchestrator maps `case_ids()` to partitions and calls
`run_format_case(case_id, ...)` per partition, then `results_table`, the plot functions
(PNG bytes) and `markdown_table` on the collected rows.

Names are imported lazily (PEP 562), so the processes that measure peak memory do not
import matplotlib and the plotting code.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "data_platform.benchmarks.cases": (
        "FORMATS",
        "LIBRARIES",
        "MISSING_COMBOS",
        "SIZES",
        "SUPPORTED",
        "TARGETS",
        "FormatCase",
        "all_cases",
        "case_ids",
        "parse_case_id",
        "parse_size",
        "size_label",
    ),
    "data_platform.benchmarks.provenance": ("fingerprint",),
    "data_platform.benchmarks.page_cache": ("drop_from_cache", "resident_fraction"),
    "data_platform.benchmarks.format_runner": ("FormatResult", "run_format_case"),
    "data_platform.benchmarks.summary": (
        "markdown_table",
        "plot_load_vs_size",
        "plot_save_load",
        "results_table",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)


def __dir__() -> list[str]:
    return __all__
