"""One dynamic partition per object uploaded under `landing/<dataset>/`."""

from __future__ import annotations

from functools import cache

import dagster as dg


@cache
def uploads_partitions(dataset: str) -> dg.DynamicPartitionsDefinition:
    """Partition keys are object keys relative to the dataset's landing prefix."""
    return dg.DynamicPartitionsDefinition(name=f"{dataset}_uploads")
