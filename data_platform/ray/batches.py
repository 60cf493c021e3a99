"""A partition's rows mapped over Ray Data actors, the model loaded once per actor.

The rows go to the cluster as Arrow blocks (`ray.data.from_arrow`), a pool of actors
(one CPU each) runs a `BatchModel` over them (its `__init__` loads or receives the model
once per actor; `apply` maps one Arrow batch), and the answers come back as Arrow, put
back in input order by a row number that travels with each row. Each answer also says
which node computed it, so a caller can tell (and a test can check) where the work ran.
The caller writes the result back in one commit: nothing here touches the lake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

ROW = "_dp_row"
NODE = "_dp_node"


class BatchModel:
    """A Ray Data callable class: load in `__init__` (once per actor), map in `apply`."""

    def apply(self, batch: pa.Table) -> dict[str, Any]:
        raise NotImplementedError

    def __call__(self, batch: pa.Table) -> pa.Table:
        import ray

        columns = self.apply(batch)
        node = ray.get_runtime_context().get_node_id()
        return pa.table(
            {ROW: batch.column(ROW), **columns, NODE: pa.array([node] * batch.num_rows)}
        )


class EmbedBatch(BatchModel):
    """all-MiniLM-L6-v2 vectors of one text column (the same `Embedder` as one process)."""

    def __init__(self, text_column: str, threads: int = 1) -> None:
        from data_platform.embedding.model import get_embedder

        self.text_column = text_column
        self.embedder = get_embedder(threads=threads)

    def apply(self, batch: pa.Table) -> dict[str, Any]:
        vectors = self.embedder.encode(batch.column(self.text_column).to_pylist())
        flat = pa.array(vectors.reshape(-1), pa.float32())
        return {"vector": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])}


class PredictBatch(BatchModel):
    """A trained model's `predict` or `predict_proba` (the model arrives once per actor)."""

    def __init__(self, model: Any, method: str) -> None:
        self.model = model
        self.method = method

    def apply(self, batch: pa.Table) -> dict[str, Any]:
        frame = pl.from_arrow(batch.drop([ROW]))
        out = np.asarray(getattr(self.model, self.method)(frame))
        if out.ndim == 1:
            return {"output": pa.array(out)}
        flat = pa.array(out.reshape(-1))
        return {"output": pa.FixedSizeListArray.from_arrays(flat, out.shape[1])}


@dataclass(frozen=True)
class RayOutcome:
    """The mapped columns in input order, and the nodes that computed them."""

    data: pa.Table
    nodes: frozenset[str]


def map_on_ray(
    table: pa.Table,
    model: type[BatchModel],
    *,
    model_kwargs: dict[str, Any],
    actors: int,
    batch_size: int = 256,
) -> RayOutcome:
    """Run `model` over `table` on the connected Ray cluster (see `ray_driver`)."""
    import ray
    import ray.data

    if table.num_rows == 0:
        raise ValueError("no rows to map")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    # every actor up (its model loaded) before the first block is handed out: else the
    # first actor ready takes all the blocks of a small partition
    context.wait_for_min_actors_s = 600
    # a small partition still gives every actor some batches (two each at least)
    batch_size = max(1, min(batch_size, -(-table.num_rows // (actors * 2))))
    indexed = table.append_column(ROW, pa.array(np.arange(table.num_rows), pa.int64()))
    blocks = max(1, min(actors * 2, -(-table.num_rows // batch_size)))
    step = -(-table.num_rows // blocks)
    dataset = ray.data.from_arrow(
        [indexed.slice(i, step) for i in range(0, table.num_rows, step)]
    ).map_batches(
        model,
        fn_constructor_kwargs=model_kwargs,
        batch_size=batch_size,
        batch_format="pyarrow",
        concurrency=actors,
        num_cpus=1,
    )
    result = pa.concat_tables(ray.get(dataset.to_arrow_refs())).sort_by(ROW)
    if result.num_rows != table.num_rows:
        raise RuntimeError(f"Ray returned {result.num_rows} rows for {table.num_rows}")
    nodes = frozenset(result.column(NODE).to_pylist())
    return RayOutcome(result.drop([ROW, NODE]), nodes)


def embed_on_ray(
    frame: pl.DataFrame, text_column: str, *, actors: int, vector_column: str = "vector"
) -> tuple[pl.DataFrame, frozenset[str]]:
    """`embed_frame` on the connected cluster: `frame` with its vector column, and the nodes."""
    from data_platform.embedding.model import EMBEDDING_DIM

    outcome = map_on_ray(
        frame.select(text_column).to_arrow(),
        EmbedBatch,
        model_kwargs={"text_column": text_column},
        actors=actors,
    )
    flat = outcome.data.column("vector").combine_chunks().flatten().to_numpy()
    vectors = flat.reshape(-1, EMBEDDING_DIM)
    series = pl.Series(vector_column, vectors, dtype=pl.Array(pl.Float32, EMBEDDING_DIM))
    return frame.with_columns(series), outcome.nodes


def predict_on_ray(
    model: Any, frame: pl.DataFrame, *, method: str, actors: int, batch_size: int
) -> tuple[np.ndarray, frozenset[str]]:
    """`model.<method>(frame)` on the connected cluster, and the nodes that computed it."""
    inputs = model.select_inputs(frame) if hasattr(model, "select_inputs") else frame
    outcome = map_on_ray(
        inputs.to_arrow(),
        PredictBatch,
        model_kwargs={"model": model, "method": method},
        actors=actors,
        batch_size=batch_size,
    )
    column = outcome.data.column("output").combine_chunks()
    if pa.types.is_fixed_size_list(column.type):
        output = column.flatten().to_numpy().reshape(len(column), column.type.list_size)
    else:
        output = column.to_numpy()
    return output, outcome.nodes
