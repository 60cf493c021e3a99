"""Lineage to the model: the snapshot a training run read goes into that run's metadata."""

from __future__ import annotations

from typing import Any, Protocol

from data_platform.training.stream import TrainingStream


class MetadataSink(Protocol):
    """Anything that takes run metadata: a Dagster asset context, an MLflow-like logger."""

    def add_output_metadata(self, metadata: dict[str, Any]) -> None: ...


def record_training_input(sink: MetadataSink, *streams: TrainingStream) -> dict[str, Any]:
    """Add each stream's table, ref and snapshot id to `sink` (e.g. a Dagster context).

    With one stream the keys are `training_table`, `training_snapshot_id`...; with several,
    each is prefixed by its table name. Returns what was recorded.
    """
    if len(streams) == 1:
        metadata = streams[0].lineage()
    else:
        metadata = {f"{s.table_name}/{k}": v for s in streams for k, v in s.lineage().items()}
    sink.add_output_metadata(metadata)
    return metadata
