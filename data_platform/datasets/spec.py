"""`DatasetSpec`: everything the layers need to know about one dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset, declared once; every layer's assets are built from this.

    Attributes:
        name: snake_case name; also the Iceberg table name in every layer.
        schema: the Pandera model of the staged table (column names, types, rules).
        id_column: the key column, unique within the dataset.
        text_column: the free-text column (embedded, shown in previews).
        label_column: the class label column, if the dataset has one.
        classes: the declared label classes (the labeling config's choices).
        generator: makes `rows` deterministic sample rows from a seed (demo, benchmarks).
        description: one line, shown on the assets.
    """

    name: str
    schema: type[pa.DataFrameModel]
    id_column: str
    text_column: str
    label_column: str | None
    classes: tuple[str, ...]
    generator: Callable[..., pl.DataFrame]
    description: str

    @property
    def columns(self) -> dict[str, pl.DataType]:
        """The staged table's columns and polars types, from the Pandera model."""
        return {n: c.dtype.type for n, c in self.schema.to_schema().columns.items()}

    def landing_prefix(self, landing_root: str) -> str:
        """Where uploads of this dataset land: `<landing_root><name>/`."""
        return f"{landing_root.rstrip('/')}/{self.name}/"

    def table(self, layer: str) -> str:
        """The Iceberg table of this dataset in `layer`, e.g. `staged.reviews`."""
        return f"{layer}.{self.name}"
