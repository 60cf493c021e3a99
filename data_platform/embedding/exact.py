"""Exact top-k search and recall, in numpy: the ground truth an ANN index is measured against.

Recall is tie-aware, as in ann-benchmarks: a returned row counts as a hit when its true score
is at least the k-th best exact score (minus a small epsilon). Datasets with repeated texts
have many identical vectors, and an index that returns another copy of a tied vector is right.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

TIE_EPSILON = 1e-4


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest scores per row, best first."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def exact_top_k(
    batches: Iterable[tuple[np.ndarray, np.ndarray]], queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k over vectors that arrive in batches (bounded memory).

    Args:
        batches: ``(ids, vectors)`` pairs; ``vectors`` is ``(n, dim)`` float32.
        queries: ``(q, dim)`` float32 query vectors.
        k: Neighbours per query.

    Returns:
        ``(ids, scores)``, both ``(q, <=k)``, best first.
    """
    queries = np.asarray(queries, dtype=np.float32)
    best_ids = np.empty((len(queries), 0), dtype=object)
    best_scores = np.empty((len(queries), 0), dtype=np.float32)
    for ids, vectors in batches:
        scores = queries @ np.asarray(vectors, dtype=np.float32).T
        pick = top_k(scores, k)
        cand_scores = np.concatenate([best_scores, np.take_along_axis(scores, pick, 1)], axis=1)
        cand_ids = np.concatenate([best_ids, np.asarray(ids, dtype=object)[pick]], axis=1)
        keep = top_k(cand_scores, k)
        best_scores = np.take_along_axis(cand_scores, keep, 1)
        best_ids = np.take_along_axis(cand_ids, keep, 1)
    return best_ids, best_scores


def recall_from_scores(
    found_scores: list[np.ndarray], exact_scores: np.ndarray, k: int, eps: float = TIE_EPSILON
) -> float:
    """Mean tie-aware recall@k.

    Args:
        found_scores: Per query, the true scores of the rows the index returned.
        exact_scores: ``(q, k)`` exact scores, best first.
        k: The k of recall@k.
        eps: Tolerance for float differences between the two score computations.

    Returns:
        Recall in [0, 1]; a query with fewer than k exact neighbours needs all of them.
    """
    hits = []
    for found, exact in zip(found_scores, exact_scores, strict=True):
        need = min(k, len(exact))
        if need == 0:
            continue
        threshold = exact[need - 1] - eps
        hits.append(min(need, int(np.sum(np.asarray(found)[:k] >= threshold))) / need)
    return float(np.mean(hits)) if hits else 1.0


def recall_of_ids(found_ids: list[np.ndarray], exact_ids: list[np.ndarray], k: int) -> float:
    """Mean recall@k without tie credit: the share of the exact top-k ids that came back.

    A strict count: an index that returns another copy of a tied vector loses the point, so
    with duplicated vectors this is a lower bound and `recall_from_scores` the fair figure.
    """
    hits = []
    for found, exact in zip(found_ids, exact_ids, strict=True):
        truth = set(np.asarray(exact)[:k].tolist())
        if truth:
            hits.append(len(truth.intersection(np.asarray(found)[:k].tolist())) / len(truth))
    return float(np.mean(hits)) if hits else 1.0


def exact_search_numpy(vectors: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Row indices of the exact top-k for one query over an in-memory matrix (the baseline)."""
    return exact_search_scores(vectors, query, k)[0]


def exact_search_scores(
    vectors: np.ndarray, query: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices and scores of the exact top-k, best first, from one matrix-vector product.

    The scores are the ones the ranking used: recomputing them on the chosen rows can
    differ in the last bit, and tied duplicates would then look out of order.
    """
    scores = vectors @ query
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    part = np.argpartition(-scores, k - 1)[:k]
    best = part[np.argsort(-scores[part], kind="stable")]
    return best, scores[best]
