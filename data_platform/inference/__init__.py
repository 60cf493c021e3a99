"""Inference kernels: a real tabular model, chunked executors, and their benchmark.

No Dagster here: an orchestrator trains with `train_model`, predicts with `run_inference`,
maps `inference_cases()` ids to partitions calling `run_inference_case` per partition, then
summarises with `inference_table`, `measure_costs`, `plot_inference` and `explain`.

Names are imported lazily (PEP 562): a spawned worker that unpickles a light predictor
should not pay for scikit-learn or matplotlib imports it never uses.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "data_platform.benchmarks.inference_bench": (
        "FLOOR",
        "InferenceCase",
        "InferenceResult",
        "inference_cases",
        "parse_inference_case_id",
        "predictions_digest",
        "run_inference_case",
    ),
    "data_platform.inference.executors": (
        "DEFAULT_CHUNK_SIZE",
        "EXECUTORS",
        "FORK",
        "open_executor",
        "predict_chunked",
        "run_inference",
        "split_chunks",
    ),
    "data_platform.inference.model": (
        "ModelSpec",
        "TabularModel",
        "model_inputs",
        "train_model",
    ),
    "data_platform.benchmarks.inference_report": (
        "explain",
        "inference_table",
        "measure_costs",
        "plot_inference",
    ),
    "data_platform.benchmarks.inference_workloads": (
        "WORKLOADS",
        "SEED_PUBLISHED_S",
        "SEED_ROWS",
        "SEED_WORKERS",
        "RemoteModel",
        "SeedModel",
        "seed_frame",
        "workload_predictor",
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
