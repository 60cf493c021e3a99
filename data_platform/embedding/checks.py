"""Pure check functions over vectors and vector tables, for asset checks to wrap.

Each returns a `CheckOutcome` (passed, a one-line description, metadata);
`data_platform.defs.checks.check_result` turns it into an ``AssetCheckResult``.
Nothing here imports Dagster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from data_platform.check_outcome import CheckOutcome
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.embedding.model import EMBEDDING_DIM, VECTOR_COLUMN

if TYPE_CHECKING:
    from data_platform.embedding.store import VectorStore

NORM_TOLERANCE = 1e-3
RECALL_THRESHOLD = 0.95


def _matrix(vectors: np.ndarray | pl.Series | pl.DataFrame) -> np.ndarray:
    if isinstance(vectors, pl.DataFrame):
        vectors = vectors.get_column(VECTOR_COLUMN)
    if isinstance(vectors, pl.Series):
        vectors = vectors.to_numpy()
    return np.asarray(vectors, dtype=np.float32).reshape(-1, EMBEDDING_DIM)


def vectors_finite_and_normalised(
    vectors: np.ndarray | pl.Series | pl.DataFrame, tolerance: float = NORM_TOLERANCE
) -> CheckOutcome:
    """Every vector is finite and of unit length (within ``tolerance``).

    Args:
        vectors: A ``(n, 384)`` array, a vector Series, or a frame with a ``vector`` column.
        tolerance: Allowed deviation of the L2 norm from 1.

    Returns:
        The outcome, with counts of bad rows and the worst norm error.
    """
    matrix = _matrix(vectors)
    finite = np.isfinite(matrix).all(axis=1)
    norm_error = np.abs(np.linalg.norm(np.where(finite[:, None], matrix, 0), axis=1) - 1.0)
    bad_norm = finite & (norm_error > tolerance)
    worst = float(norm_error[finite].max()) if finite.any() else 0.0
    passed = bool(finite.all() and not bad_norm.any())
    return CheckOutcome(
        passed,
        f"{len(matrix)} vectors: {int((~finite).sum())} non-finite, "
        f"{int(bad_norm.sum())} not unit length",
        {
            "rows": len(matrix),
            "non_finite_rows": int((~finite).sum()),
            "not_normalised_rows": int(bad_norm.sum()),
            "max_norm_error": worst,
        },
    )


def partition_vector_count(
    store: VectorStore, dataset: str, source_key: str, expected: int
) -> CheckOutcome:
    """The table holds exactly ``expected`` vectors for a source partition.

    Args:
        store: The vector store.
        dataset: Table name.
        source_key: The source partition's key.
        expected: Rows of that partition in the source table.

    Returns:
        The outcome, with both counts.
    """
    quoted = source_key.replace("'", "''")
    found = store.count(dataset, f"{SOURCE_KEY} = '{quoted}'")
    return CheckOutcome(
        found == expected,
        f"{found} vectors for partition {source_key!r}, {expected} source rows",
        {"vectors": found, "source_rows": expected, SOURCE_KEY: source_key},
    )


def recall_meets_target(
    store: VectorStore,
    dataset: str,
    *,
    k: int = 10,
    threshold: float = RECALL_THRESHOLD,
    sample: int = 50,
    seed: int = 0,
) -> CheckOutcome:
    """Recall@k of the indexed search against exact search is at least ``threshold``.

    Args:
        store: The vector store.
        dataset: Table name.
        k: The k of recall@k.
        threshold: Minimum recall.
        sample: Rows sampled as queries.
        seed: Sampling seed.

    Returns:
        The outcome, with the recall report as metadata.
    """
    report = store.recall_at_k(dataset, k=k, sample=sample, seed=seed)
    return CheckOutcome(
        report.recall >= threshold,
        f"recall@{k} {report.recall:.3f} ({report.index_type}, {report.queries} queries), "
        f"target {threshold}",
        {**report.as_metadata(), "threshold": threshold},
    )
