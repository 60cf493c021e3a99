"""`inference/reviews`: category predictions for every transformed review.

A scikit-learn model is trained on the transformed table (a stable 80% of ids) and
predicts every row on the executor the run config names: single process, threads,
processes or Ray. Every executor gives identical predictions; only the time differs.
"""

import time
from typing import Literal

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from data_platform.core.inference import run_inference, train_model
from data_platform.core.splits import is_holdout
from data_platform.defs.constants import OWNERS
from data_platform.defs.metadata import write_metadata
from data_platform.resources import LakehouseResource, PlatformSettings

SOURCE = "transformed.reviews"
TARGET = "inference.reviews"


class InferenceConfig(dg.Config):
    """How to run the predictions."""

    executor: Literal["single", "thread", "process", "ray"] = Field(
        default="thread", description="single process, a thread pool, a process pool, or Ray"
    )
    workers: int = Field(default=2, ge=1, description="threads, processes or Ray CPUs")
    chunk_size: int = Field(default=2000, ge=1, description="rows per task")
    ray_address: str = Field(default="", description="Ray cluster address; empty: local Ray")


@dg.asset(
    key=["inference", "reviews"],
    deps=[dg.AssetKey(["transformed", "reviews"])],
    group_name="inference",
    kinds={"iceberg", "scikit-learn"},
    owners=OWNERS,
    description="Predicted category and confidence for every review, by a model trained on them.",
    metadata={"iceberg_table": TARGET},
)
def reviews_predictions(
    context: dg.AssetExecutionContext,
    config: InferenceConfig,
    lakehouse: LakehouseResource,
    platform: PlatformSettings,
) -> dg.MaterializeResult:
    lake = lakehouse.get_lakehouse()
    read = lake.read(SOURCE)
    frame = pl.from_arrow(read.data)
    holdout = is_holdout(frame["review_id"])
    model = train_model(frame.filter(~holdout))
    started = time.perf_counter()
    proba = run_inference(
        model,
        frame,
        config.executor,
        config.workers,
        config.chunk_size,
        method="predict_proba",
        ray_address=config.ray_address or None,
        ray_temp_dir=platform.get_settings().home_dir / "ray",
    )
    seconds = time.perf_counter() - started
    classes = np.array(model.classes)
    predictions = frame.select("review_id", "category", "_source_key").with_columns(
        pl.Series("predicted_label", classes[proba.argmax(axis=1)]),
        pl.Series("confidence", proba.max(axis=1)),
        holdout.alias("is_holdout"),
    )
    scored = predictions.filter(pl.col("is_holdout"))
    accuracy = float((scored["predicted_label"] == scored["category"]).mean() or 0.0)
    write = lake.replace(TARGET, predictions.to_arrow(compat_level=pl.CompatLevel.oldest()))
    context.log.info(f"{frame.height} rows on {config.executor} x{config.workers}: {seconds:.2f}s")
    return dg.MaterializeResult(
        metadata={
            **write_metadata(write, [read], predictions),
            "executor": f"{config.executor} x{config.workers} (chunks of {config.chunk_size})",
            "predict_seconds": dg.MetadataValue.float(round(seconds, 3)),
            "rows_per_second": dg.MetadataValue.float(round(frame.height / max(seconds, 1e-9), 1)),
            "holdout_accuracy": dg.MetadataValue.float(round(accuracy, 4)),
            "holdout_rows": dg.MetadataValue.int(scored.height),
        }
    )
