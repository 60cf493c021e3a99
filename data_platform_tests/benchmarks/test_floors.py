"""Floors and held-out queries of the benchmarks: small, fast, exact."""

from __future__ import annotations

import numpy as np

from data_platform.benchmarks.floors import (
    bandwidth_floor_s,
    blas_info,
    blas_summary,
    memcpy_gbps,
    search_floor_ms,
)
from data_platform.benchmarks.queries import held_out_texts
from data_platform.embedding.exact import recall_from_scores, recall_of_ids
from data_platform.synthetic import generate_reviews


def test_search_floor_times_every_query_on_a_contiguous_copy() -> None:
    matrix = np.random.default_rng(0).standard_normal((2000, 8))[:, :4]  # float64, strided
    times = search_floor_ms(matrix, matrix[:7], 10)
    assert len(times) == 7
    assert all(0 < t < 1000 for t in times)


def test_blas_threads_are_reported() -> None:
    infos = blas_info()
    assert any(i["api"] == "blas" and i["threads"] >= 1 for i in infos)
    assert "threads" in blas_summary()


def test_memcpy_bandwidth_and_floor() -> None:
    gbps = memcpy_gbps(8 * 2**20, repeats=2)
    assert 0.1 < gbps < 10_000
    assert bandwidth_floor_s(2 * 10**9, 2.0) == 1.0


def test_recall_with_and_without_tie_credit() -> None:
    exact_ids = [np.array([1, 2, 3])]
    exact_scores = np.array([[0.9, 0.8, 0.8]])
    # the index returned row 7, a tied copy of row 3: a hit with tie credit, a miss without
    found_ids, found_scores = [np.array([1, 2, 7])], [np.array([0.9, 0.8, 0.8])]
    assert recall_from_scores(found_scores, exact_scores, 3) == 1.0
    assert recall_of_ids(found_ids, exact_ids, 3) == 2 / 3
    assert recall_of_ids([np.array([3, 2, 1])], exact_ids, 3) == 1.0
    assert recall_of_ids([np.array([], dtype=int)], exact_ids, 3) == 0.0


def test_held_out_texts_are_new_distinct_and_stable() -> None:
    indexed = set(generate_reviews(5000, seed=0)["text"].to_list())
    texts = held_out_texts(indexed, 50)
    assert len(texts) == len(set(texts)) == 50
    assert not indexed.intersection(texts)
    assert texts == held_out_texts(indexed, 50)


def test_held_out_texts_when_the_generator_is_used_up() -> None:
    everything = set()
    for seed in range(999, 999 + 6):
        everything.update(generate_reviews(200, seed=seed)["text"].to_list())
    texts = held_out_texts(everything, 10)
    assert len(texts) == 10
    assert not everything.intersection(texts)
    assert all(" Also: " in t for t in texts)
