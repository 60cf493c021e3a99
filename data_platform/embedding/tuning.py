"""Keep a vector table's ANN index fresh and prove its recall against an exact scan.

`ensure_index` builds the index when the table is large enough (or has doubled since the
index was trained), folds new rows into it otherwise, then picks the cheapest search effort
(nprobes for IVF, ef for HNSW) whose recall@k on held-out rows reaches the target, and stores
that effort in the table so that every process searches the way it was validated.

Queries are held out (leave-one-out): a sampled row is searched for in the table without
itself, in the exact answer and in the index's. A row searched for with itself in the table
is the one neighbour every index finds first (its own partition is probed first), which
makes a too-shallow search look sound: with k = 1 every index scores 1.0.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from data_platform.embedding.exact import exact_top_k, recall_from_scores
from data_platform.embedding.index import (
    INDEX_NAME,
    META_EFFORT,
    META_INDEX_TYPE,
    META_RECALL,
    META_TRAINED_ROWS,
    MIN_INDEX_ROWS,
    IndexReport,
    apply_effort,
    effort_ladder,
    index_config,
    needs_rebuild,
    num_partitions_for,
)
from data_platform.embedding.model import EMBEDDING_DIM, VECTOR_COLUMN
from data_platform.embedding.rows import field_metadata


class VectorStore(Protocol):
    """What tuning needs of `data_platform.embedding.store.VectorStore` (which calls in here)."""

    def columns(self, dataset: str) -> tuple[str, str]: ...

    def table(self, dataset: str) -> Any: ...

    def query_vector(self, query: Any) -> np.ndarray: ...


TUNING_RECALL = 0.98
TUNING_SEED = 12345  # tuning samples other rows than the recall check (seed 0)
HELD_OUT = "held-out rows"
GIVEN = "given"


@dataclass(frozen=True)
class RecallReport:
    """Recall@k of the indexed search against exact search on a set of queries."""

    dataset: str
    k: int
    recall: float
    queries: int
    index_type: str
    effort: int
    query_source: str = GIVEN  # HELD_OUT: sampled rows, each searched for without itself

    def as_metadata(self) -> dict[str, Any]:
        return {
            f"recall_at_{self.k}": round(self.recall, 4),
            "queries": self.queries,
            "query_source": self.query_source,
            "index_type": self.index_type,
            "search_effort": self.effort,
        }


def iter_vectors(
    store: VectorStore, dataset: str, batch_rows: int = 65_536
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, vectors)`` batches of the whole table, for exact scans (bounded memory)."""
    id_column, _ = store.columns(dataset)
    reader = store.table(dataset).search().select([id_column, VECTOR_COLUMN])
    for batch in reader.to_batches(batch_rows):
        if batch.num_rows:
            flat = batch.column(VECTOR_COLUMN).flatten().to_numpy(zero_copy_only=False)
            ids = batch.column(id_column).to_numpy(zero_copy_only=False)
            yield ids, flat.reshape(batch.num_rows, -1).astype(np.float32, copy=False)


def held_out_rows(
    store: VectorStore, dataset: str, n: int = 50, seed: int = 0
) -> tuple[list[Any], np.ndarray]:
    """Ids and vectors of up to ``n`` random rows, to be searched for without themselves."""
    table = store.table(dataset)
    id_column, _ = store.columns(dataset)
    rows = table.count_rows()
    if rows == 0:
        return [], np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    offsets = np.sort(np.random.default_rng(seed).choice(rows, min(n, rows), replace=False))
    taken = table.take_offsets([int(o) for o in offsets]).select([id_column, VECTOR_COLUMN])
    batch = taken.to_arrow()
    flat: np.ndarray = batch.column(VECTOR_COLUMN).combine_chunks().flatten().to_numpy()
    return batch.column(id_column).to_pylist(), flat.reshape(len(offsets), -1).astype(np.float32)


def _without(ids: Sequence[Any], own: Any, k: int) -> list[int]:
    """Positions of the first ``k`` of ``ids`` that are not the held-out row ``own``."""
    return [i for i, found in enumerate(ids) if own is None or found != own][:k]


def _exact_scores(
    store: VectorStore, dataset: str, queries: np.ndarray, k: int, held_out: list[Any] | None
) -> np.ndarray:
    """``(q, <=k)`` exact top-k scores, best first, without each held-out row itself."""
    if held_out is None:
        return exact_top_k(iter_vectors(store, dataset), queries, k)[1]
    ids, scores = exact_top_k(iter_vectors(store, dataset), queries, k + 1)
    # as many per query: its own row is among the k + 1 (else the last is dropped)
    kept = [s[_without(i, own, k)] for i, s, own in zip(ids, scores, held_out, strict=True)]
    return np.stack(kept) if kept else np.empty((0, k), dtype=np.float32)


def _as_queries(store: VectorStore, queries: np.ndarray | Sequence[str]) -> np.ndarray:
    if isinstance(queries, np.ndarray):
        return queries.astype(np.float32, copy=False).reshape(-1, EMBEDDING_DIM)
    if not len(queries):
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    return np.stack([store.query_vector(q) for q in queries])


def _found_scores(
    store: VectorStore,
    dataset: str,
    queries: np.ndarray,
    k: int,
    index_type: str | None,
    effort: int | None,
    held_out: list[Any] | None,
) -> list[np.ndarray]:
    """True scores of what the indexed search returns (vectors fetched back, not _distance),
    the held-out row itself left out."""
    table = store.table(dataset)
    id_column, _ = store.columns(dataset)
    limit = k if held_out is None else k + 1
    owners = held_out if held_out is not None else [None] * len(queries)
    found = []
    for query, own in zip(queries, owners, strict=True):
        builder = table.search(query, vector_column_name=VECTOR_COLUMN).distance_type("dot")
        builder = apply_effort(builder.limit(limit), index_type, effort)
        result = builder.select([id_column, VECTOR_COLUMN, "_distance"]).to_arrow()
        flat = result.column(VECTOR_COLUMN).combine_chunks().flatten().to_numpy()
        vectors = flat.reshape(result.num_rows, -1)
        keep = _without(result.column(id_column).to_pylist(), own, k)
        found.append(vectors[keep] @ query)
    return found


def recall_at_k(
    store: VectorStore,
    dataset: str,
    queries: np.ndarray | Sequence[str] | None = None,
    k: int = 10,
    *,
    sample: int = 50,
    seed: int = 0,
    effort: int | None = None,
) -> RecallReport:
    """Recall@k of the indexed search against an exact numpy scan of the table.

    Args:
        store: The vector store.
        dataset: Table name.
        queries: Query texts, a ``(q, 384)`` array, or None to hold out ``sample`` rows
            (each searched for in the table without itself, by the index and exactly).
        k: The k of recall@k.
        sample: Rows to hold out when ``queries`` is None.
        seed: Sampling seed.
        effort: Search effort to test; default the tuned one stored in the table.

    Returns:
        A `RecallReport` (recall 1.0 for a table without index: its search is exact).
    """
    table = store.table(dataset)
    held_out: list[Any] | None = None
    if queries is None:
        held_out, q = held_out_rows(store, dataset, sample, seed)
    else:
        q = _as_queries(store, queries)
    meta = field_metadata(table.schema, VECTOR_COLUMN)
    index_type = meta.get(META_INDEX_TYPE) if table.index_stats(INDEX_NAME) else None
    effort = effort or int(meta.get(META_EFFORT, 0)) or None
    exact_scores = _exact_scores(store, dataset, q, k, held_out)
    found = _found_scores(store, dataset, q, k, index_type, effort, held_out)
    recall = recall_from_scores(found, exact_scores, k)
    source = GIVEN if held_out is None else HELD_OUT
    return RecallReport(dataset, k, recall, len(q), index_type or "flat", effort or 0, source)


def ensure_index(
    store: VectorStore,
    dataset: str,
    *,
    index_type: str = "IVF_FLAT",
    target_recall: float = TUNING_RECALL,
    k: int = 10,
    sample: int = 100,
    rebuild: bool = False,
    seed: int = TUNING_SEED,
) -> IndexReport:
    """Build or extend the ANN index and tune its search effort.

    Args:
        store: The vector store.
        dataset: Table name.
        index_type: ``IVF_FLAT`` (default, measured best here), ``IVF_PQ`` or ``IVF_HNSW_SQ``.
        target_recall: Recall@k the tuned effort must reach on held-out rows; above the
            0.95 of the recall check, so that a fresh sample passes it too.
        k: The k of the recall target.
        sample: Rows held out as tuning queries.
        rebuild: Retrain the index even if it could be extended.
        seed: Sampling seed.

    Returns:
        An `IndexReport`; ``index_type == "flat"`` below `MIN_INDEX_ROWS` rows.
    """
    table = store.table(dataset)
    rows = table.count_rows()
    if rows < MIN_INDEX_ROWS:
        return IndexReport(dataset, rows, "flat", "none")
    meta = field_metadata(table.schema, VECTOR_COLUMN)
    stats = table.index_stats(INDEX_NAME)
    started = time.perf_counter()
    if rebuild or needs_rebuild(stats, meta, rows, index_type):
        config = index_config(index_type, rows, EMBEDDING_DIM)
        table.create_index(VECTOR_COLUMN, config=config, replace=True, name=INDEX_NAME)
        action, trained = "built", rows
    else:
        action, trained = "unchanged", int(meta[META_TRAINED_ROWS])
        if stats.num_unindexed_rows:
            table.optimize()  # appends new rows to the trained partitions
            action = "updated"
    seconds = time.perf_counter() - started
    parts = num_partitions_for(trained, index_type)
    if action == "unchanged" and META_EFFORT in meta:
        effort, recall = int(meta[META_EFFORT]), float(meta.get(META_RECALL, "nan"))
    else:
        effort, recall = _tune(store, dataset, index_type, trained, target_recall, k, sample, seed)
        table.update_field_metadata(
            {
                "path": VECTOR_COLUMN,
                "metadata": {
                    META_INDEX_TYPE: index_type,
                    META_EFFORT: str(effort),
                    META_TRAINED_ROWS: str(trained),
                    META_RECALL: f"{recall:.4f}",
                },
            }
        )
    return IndexReport(dataset, rows, index_type, action, seconds, parts, effort, recall)


def _tune(
    store: VectorStore,
    dataset: str,
    index_type: str,
    trained: int,
    target: float,
    k: int,
    sample: int,
    seed: int,
) -> tuple[int, float]:
    """The cheapest effort on the ladder reaching ``target`` (else the largest), and its recall."""
    held_out, queries = held_out_rows(store, dataset, sample, seed)
    exact_scores = _exact_scores(store, dataset, queries, k, held_out)
    effort, recall = 0, 0.0
    for effort in effort_ladder(index_type, trained, k):
        found = _found_scores(store, dataset, queries, k, index_type, effort, held_out)
        recall = recall_from_scores(found, exact_scores, k)
        if recall >= target:
            break
    return effort, recall
