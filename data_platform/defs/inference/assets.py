"""`inference/<dataset>`: the contract's target predicted for every transformed row.

Built for every dataset whose contract declares a `target`. A model (see
`core.inference.model`) is trained on a stable 80% of the records (split by a hash of the
record id) and predicts every row on the executor the run config names: single process,
threads, processes or Ray. Every executor gives identical predictions; only the time differs.
"""

import time
from typing import Literal

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from data_platform.contracts import Contract
from data_platform.defs.constants import OWNERS, SOURCE_KEY
from data_platform.defs.metadata import write_metadata
from data_platform.defs.resources import LakehouseResource, SettingsResource
from data_platform.inference.executors import run_inference
from data_platform.inference.model import ModelSpec, train_model
from data_platform.profiles.drift import js
from data_platform.ray.batches import predict_on_ray
from data_platform.ray.driver import ray_driver
from data_platform.ray.targets import ray_target
from data_platform.splits import is_holdout


class InferenceConfig(dg.Config):
    """How to run the predictions."""

    executor: Literal["single", "thread", "process", "ray"] = Field(
        default="thread", description="single process, a thread pool, a process pool, or Ray"
    )
    workers: int = Field(default=2, ge=1, description="threads, processes or Ray CPUs")
    chunk_size: int = Field(default=2000, ge=1, description="rows per task")
    ray_address: str = Field(
        default="", description="Ray cluster; empty: DP_RAY_ADDRESS, and if unset a local Ray"
    )


def build_inference_asset(contract: Contract) -> dg.AssetsDefinition:
    """The predictions asset of a dataset with a target."""
    assert contract.target is not None, "inference assets are built for datasets with a target"
    spec = ModelSpec.from_contract(contract)
    source, target = contract.table("transformed"), contract.table("inference")
    classify = spec.task == "classification"

    @dg.asset(
        key=["inference", contract.name],
        deps=[contract.asset_key("transformed")],
        group_name="inference",
        kinds={"iceberg", "scikit-learn"},
        owners=OWNERS,
        description=f"{contract.name}: {spec.target} predicted ({spec.task}) for every record, "
        "by a model trained on 80% of them.",
        metadata={"dataset": contract.name, "iceberg_table": target},
    )
    def predictions(
        context: dg.AssetExecutionContext,
        config: InferenceConfig,
        lakehouse: LakehouseResource,
        platform: SettingsResource,
    ) -> dg.MaterializeResult:
        lake = lakehouse.get_lakehouse()
        read = lake.read(source)
        frame = pl.from_arrow(read.data)
        assert isinstance(frame, pl.DataFrame)
        holdout = is_holdout(frame[contract.id_column].cast(pl.String))
        try:
            model = train_model(frame.filter(~holdout), spec)
        except ValueError as exc:
            raise dg.Failure(description=f"{source}: cannot train: {exc}") from None
        started = time.perf_counter()
        method = "predict_proba" if classify else "predict"
        address, token = ray_target(platform.get_settings(), config.ray_address)
        ran_on = f"{config.executor} x{config.workers} (chunks of {config.chunk_size})"
        where: dict[str, dg.MetadataValue] = {}
        if config.executor == "ray" and address:  # Ray Data actors on the cluster
            with ray_driver(address, token):
                output, nodes = predict_on_ray(
                    model, frame, method=method, actors=config.workers, batch_size=config.chunk_size
                )
            ran_on = f"ray: {config.workers} actors on {len(nodes)} node(s) of {address}"
            # the Ray node ids that computed batches: where the work ran, not what was asked
            where = {"ray_nodes": dg.MetadataValue.json(sorted(nodes))}
        else:
            output = run_inference(
                model,
                frame,
                config.executor,
                config.workers,
                config.chunk_size,
                method=method,
                ray_temp_dir=platform.get_settings().home_dir / "ray",
            )
        seconds = time.perf_counter() - started
        keep = frame.select(contract.id_column, spec.target, SOURCE_KEY)
        if classify:
            classes = np.array(model.classes)
            predictions = keep.with_columns(
                pl.Series("predicted_label", classes[output.argmax(axis=1)]),
                pl.Series("confidence", output.max(axis=1)),
                holdout.alias("is_holdout"),
            )
        else:
            predictions = keep.with_columns(
                pl.Series("predicted_value", output, dtype=pl.Float64),
                holdout.alias("is_holdout"),
            )
        write = lake.replace(target, predictions.to_arrow(compat_level=pl.CompatLevel.oldest()))
        context.log.info(
            f"{frame.height} rows on {config.executor} x{config.workers}: {seconds:.2f}s"
        )
        return dg.MaterializeResult(
            metadata={
                **write_metadata(write, [read], predictions),
                **_quality(predictions.filter(pl.col("is_holdout")), spec),
                **(_mix(predictions, _previous_mix(context)) if classify else {}),
                "executor": ran_on,
                **where,
                "predict_seconds": dg.MetadataValue.float(round(seconds, 3)),
                "rows_per_second": dg.MetadataValue.float(
                    round(frame.height / max(seconds, 1e-9), 1)
                ),
            }
        )

    return predictions


def _quality(scored: pl.DataFrame, spec: ModelSpec) -> dict[str, dg.MetadataValue]:
    """Hold-out accuracy (classification) or RMSE and MAE (regression)."""
    rows = {"holdout_rows": dg.MetadataValue.int(scored.height)}
    if spec.task == "classification":
        hit = pl.col("predicted_label") == pl.col(spec.target).cast(pl.String)
        hits = scored.select(hit.mean()).item()
        return {**rows, "holdout_accuracy": dg.MetadataValue.float(round(float(hits or 0), 4))}
    error = pl.col("predicted_value") - pl.col(spec.target).cast(pl.Float64)
    squared, absolute = scored.select((error**2).mean(), error.abs().mean()).row(0)
    rmse = float(squared**0.5) if scored.height else 0.0
    mae = float(absolute or 0.0) if scored.height else 0.0
    return {
        **rows,
        "holdout_rmse": dg.MetadataValue.float(round(rmse, 4)),
        "holdout_mae": dg.MetadataValue.float(round(mae, 4)),
    }


def _previous_mix(context: dg.AssetExecutionContext) -> dict[str, float] | None:
    """The prediction mix the previous materialization recorded, if any."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get("prediction_mix") if materialization else None
    mix: object = getattr(value, "value", None)
    return {str(k): float(v) for k, v in mix.items()} if isinstance(mix, dict) else None


def _mix(
    predictions: pl.DataFrame, previous: dict[str, float] | None
) -> dict[str, dg.MetadataValue]:
    """The share of each predicted class and the mean confidence; against the previous
    materialization's mix, its Jensen-Shannon distance (the predictions' drift)."""
    counts = predictions.get_column("predicted_label").value_counts()
    total = max(predictions.height, 1)
    mix = {str(label): round(n / total, 4) for label, n in counts.sort("predicted_label").rows()}
    meta: dict[str, dg.MetadataValue] = {
        "prediction_mix": dg.MetadataValue.json(mix),
        "mean_confidence": dg.MetadataValue.float(
            round(float(predictions.get_column("confidence").cast(pl.Float64).mean() or 0.0), 4)  # type: ignore[arg-type]
        ),
    }
    if previous:
        labels = sorted(set(mix) | set(previous))
        distance = js(
            np.array([mix.get(k, 0.0) for k in labels]),
            np.array([previous.get(k, 0.0) for k in labels]),
        )
        meta["prediction_mix_js"] = dg.MetadataValue.float(round(distance, 4))
    return meta
