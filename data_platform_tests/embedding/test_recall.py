"""Recall on held-out rows: a search too shallow for its index must show up as low recall.

The table holds random unit vectors: no structure for an IVF index to exploit, so a held-out
row's nearest neighbours are spread over every partition, and probing one partition of
eight finds about one in eight of them. A row searched for with itself still in the table
finds itself every time (its own partition is probed first): with k = 1 any index scores 1.0
that way, which is why the queries are held out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from data_platform.embedding import VectorStore
from data_platform.embedding.checks import RECALL_THRESHOLD, recall_meets_target
from data_platform.embedding.index import INDEX_NAME, META_EFFORT, META_INDEX_TYPE
from data_platform.embedding.model import EMBEDDING_DIM, VECTOR_COLUMN
from data_platform.embedding.tuning import HELD_OUT, held_out_rows

ROWS, PARTITIONS = 2048, 8  # 256 rows per partition: what Lance's k-means wants to train


def store_effort(store: VectorStore, effort: int) -> None:
    """Record a search effort in the table, as `ensure_index` does after tuning."""
    store.table("random").update_field_metadata(
        {
            "path": VECTOR_COLUMN,
            "metadata": {META_INDEX_TYPE: "IVF_FLAT", META_EFFORT: str(effort)},
        }
    )


def random_store(path: Path, seed: int) -> VectorStore:
    """A local store whose table `random` holds ROWS random unit vectors, no index yet."""
    vectors = np.random.default_rng(seed).standard_normal((ROWS, EMBEDDING_DIM), np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    frame = pl.DataFrame(
        {
            "row_id": [f"r{i:05d}" for i in range(ROWS)],
            "text": [""] * ROWS,
            VECTOR_COLUMN: pl.Series(vectors, dtype=pl.Array(pl.Float32, EMBEDDING_DIM)),
        }
    )
    store = VectorStore(str(path))
    store.upsert("random", frame, "row_id")
    return store


@pytest.fixture
def indexed(tmp_path: Path) -> VectorStore:
    """`random` under an IVF_FLAT index of PARTITIONS partitions, searched exhaustively."""
    from lancedb.index import IvfFlat

    store = random_store(tmp_path / "lance", seed=3)
    config = IvfFlat(distance_type="dot", num_partitions=PARTITIONS)
    store.table("random").create_index(VECTOR_COLUMN, config=config, name=INDEX_NAME)
    store_effort(store, PARTITIONS)
    return store


def test_held_out_rows_are_rows_of_the_table(indexed: VectorStore) -> None:
    ids, vectors = held_out_rows(indexed, "random", n=5, seed=1)
    assert len(ids) == 5 == len(set(ids))
    for row_id, vector in zip(ids, vectors, strict=True):
        found = indexed.search("random", vector, k=1, exact=True)
        assert found["row_id"][0] == row_id  # so each must be left out of its own answer


def test_too_few_probes_give_low_recall(indexed: VectorStore) -> None:
    shallow = indexed.recall_at_k("random", k=1, sample=50, effort=1)
    exhaustive = indexed.recall_at_k("random", k=1, sample=50, effort=PARTITIONS)
    assert shallow.query_source == HELD_OUT
    assert (shallow.index_type, shallow.effort, shallow.queries) == ("IVF_FLAT", 1, 50)
    assert shallow.recall < 0.5  # about 1 in 8; a row searched with itself scores 1.0
    assert exhaustive.recall == 1.0  # every partition probed: the exact answer


def test_recall_check_fails_on_an_index_searched_too_shallowly(indexed: VectorStore) -> None:
    store_effort(indexed, 1)
    shallow = recall_meets_target(indexed, "random", sample=40)
    assert not shallow.passed, shallow.description
    assert shallow.metadata["recall_at_10"] < 0.5
    assert shallow.metadata["query_source"] == HELD_OUT
    assert shallow.metadata["search_effort"] == 1

    store_effort(indexed, PARTITIONS)
    deep = recall_meets_target(indexed, "random", sample=40)
    assert deep.passed, deep.description
    assert deep.metadata["recall_at_10"] == 1.0


def test_tuning_on_held_out_rows_picks_an_effort_that_holds(tmp_path: Path) -> None:
    store = random_store(tmp_path / "lance", seed=4)
    report = store.ensure_index("random", sample=40)
    assert (report.index_type, report.action) == ("IVF_FLAT", "built")
    assert report.num_partitions == PARTITIONS
    assert report.search_effort > 1  # one probe does not reach the target on random vectors
    assert report.recall >= 0.98
    fresh = recall_meets_target(store, "random", sample=40, seed=99)
    assert fresh.passed, fresh.description
    assert fresh.metadata["recall_at_10"] >= RECALL_THRESHOLD
