"""Keep a vector table's ANN index fresh and prove its recall against an exact scan.

`ensure_index` builds the index when the table is large enough (or has doubled since the
index was trained), folds new rows into it otherwise, then picks the cheapest search effort
(nprobes for IVF, ef for HNSW) whose recall@k on sampled rows reaches the target, and stores
that effort in the table so that every process searches the way it was validated.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from data_platform.core.embedding import EMBEDDING_DIM, VECTOR_COLUMN
from data_platform.vectors.exact import exact_top_k, recall_from_scores
from data_platform.vectors.index import (
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
from data_platform.vectors.rows import field_metadata


class VectorStore(Protocol):
    """What tuning needs of `data_platform.vectors.store.VectorStore` (which calls in here)."""

    def columns(self, dataset: str) -> tuple[str, str]: ...

    def table(self, dataset: str) -> Any: ...

    def query_vector(self, query: Any) -> np.ndarray: ...


TUNING_RECALL = 0.98
TUNING_SEED = 12345  # tuning samples other rows than the recall check (seed 0)


@dataclass(frozen=True)
class RecallReport:
    """Recall@k of the indexed search against exact search on a set of queries."""

    dataset: str
    k: int
    recall: float
    queries: int
    index_type: str
    effort: int

    def as_metadata(self) -> dict[str, Any]:
        return {
            f"recall_at_{self.k}": round(self.recall, 4),
            "queries": self.queries,
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


def sample_queries(store: VectorStore, dataset: str, n: int = 50, seed: int = 0) -> np.ndarray:
    """Vectors of up to ``n`` random rows of the table, as queries."""
    table = store.table(dataset)
    rows = table.count_rows()
    if rows == 0:
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    offsets = np.sort(np.random.default_rng(seed).choice(rows, min(n, rows), replace=False))
    batch = table.take_offsets([int(o) for o in offsets]).select([VECTOR_COLUMN]).to_arrow()
    flat: np.ndarray = batch.column(VECTOR_COLUMN).combine_chunks().flatten().to_numpy()
    return flat.reshape(len(offsets), -1).astype(np.float32)


def _as_queries(store: VectorStore, queries: np.ndarray | Sequence[str]) -> np.ndarray:
    if isinstance(queries, np.ndarray):
        return queries.astype(np.float32, copy=False).reshape(-1, EMBEDDING_DIM)
    if not len(queries):
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    return np.stack([store.query_vector(q) for q in queries])


def _found_scores(
    table: Any, queries: np.ndarray, k: int, index_type: str | None, effort: int | None
) -> list[np.ndarray]:
    """True scores of what the indexed search returns (vectors fetched back, not _distance)."""
    found = []
    for query in queries:
        builder = table.search(query, vector_column_name=VECTOR_COLUMN).distance_type("dot")
        builder = apply_effort(builder.limit(k), index_type, effort)
        result = builder.select([VECTOR_COLUMN, "_distance"]).to_arrow()
        flat = result.column(VECTOR_COLUMN).combine_chunks().flatten().to_numpy()
        found.append(flat.reshape(result.num_rows, -1) @ query)
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
        queries: Query texts, a ``(q, 384)`` array, or None to sample ``sample`` rows.
        k: The k of recall@k.
        sample: Rows to sample when ``queries`` is None.
        seed: Sampling seed.
        effort: Search effort to test; default the tuned one stored in the table.

    Returns:
        A `RecallReport` (recall 1.0 for a table without index: its search is exact).
    """
    table = store.table(dataset)
    if queries is None:
        q = sample_queries(store, dataset, sample, seed)
    else:
        q = _as_queries(store, queries)
    meta = field_metadata(table.schema, VECTOR_COLUMN)
    index_type = meta.get(META_INDEX_TYPE) if table.index_stats(INDEX_NAME) else None
    effort = effort or int(meta.get(META_EFFORT, 0)) or None
    _, exact_scores = exact_top_k(iter_vectors(store, dataset), q, k)
    found = _found_scores(table, q, k, index_type, effort)
    recall = recall_from_scores(found, exact_scores, k)
    return RecallReport(dataset, k, recall, len(q), index_type or "flat", effort or 0)


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
        target_recall: Recall@k the tuned effort must reach on sampled rows; above the
            0.95 of the recall check, so that a fresh sample passes it too.
        k: The k of the recall target.
        sample: Rows sampled as tuning queries.
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
    table = store.table(dataset)
    queries = sample_queries(store, dataset, sample, seed)
    _, exact_scores = exact_top_k(iter_vectors(store, dataset), queries, k)
    effort, recall = 0, 0.0
    for effort in effort_ladder(index_type, trained, k):
        found = _found_scores(table, queries, k, index_type, effort)
        recall = recall_from_scores(found, exact_scores, k)
        if recall >= target:
            break
    return effort, recall
