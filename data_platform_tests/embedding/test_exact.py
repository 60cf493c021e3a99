"""Exact top-k and tie-aware recall: the ground truth of every recall number."""

from __future__ import annotations

import numpy as np

from data_platform.embedding.exact import (
    exact_search_numpy,
    exact_search_scores,
    exact_top_k,
    recall_from_scores,
)


def _unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, 16)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_batched_exact_top_k_equals_a_full_sort() -> None:
    vectors, queries = _unit(1000, 0), _unit(5, 1)
    ids = np.array([f"id-{i}" for i in range(1000)], dtype=object)
    batches = [(ids[i : i + 128], vectors[i : i + 128]) for i in range(0, 1000, 128)]
    got_ids, got_scores = exact_top_k(batches, queries, 10)
    full = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert (got_ids == ids[full]).all()
    assert np.allclose(got_scores, np.take_along_axis(queries @ vectors.T, full, 1))
    assert (exact_search_numpy(vectors, queries[0], 10) == full[0]).all()


def test_exact_top_k_with_fewer_rows_than_k() -> None:
    ids, scores = exact_top_k([(np.array(["a", "b"]), _unit(2, 3))], _unit(1, 4), 10)
    assert ids.shape == (1, 2)
    assert scores[0, 0] >= scores[0, 1]


def test_recall_counts_a_tied_duplicate_as_a_hit() -> None:
    exact = np.array([[0.9, 0.8, 0.8]])
    # the index returned another copy of the 0.8 vector: a hit, not a miss
    assert recall_from_scores([np.array([0.9, 0.8, 0.8])], exact, 3) == 1.0
    assert recall_from_scores([np.array([0.9, 0.8, 0.1])], exact, 3) == 2 / 3
    assert recall_from_scores([np.array([0.9])], exact, 3) == 1 / 3


def test_exact_scores_are_the_ranking_scores_so_ties_stay_in_order() -> None:
    base = _unit(50, 5)
    vectors = np.repeat(base, 3, axis=0)  # every vector three times: exact ties
    positions, scores = exact_search_scores(vectors, base[7], 9)
    assert (np.diff(scores) <= 0).all()
    assert np.array_equal(scores, (vectors @ base[7])[positions])
    assert set(positions[:3]) == {21, 22, 23}
    assert exact_search_scores(vectors[:0], base[7], 5)[0].size == 0
