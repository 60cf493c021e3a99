"""The vector store against the real S3 server: writes by id, partitions, search, index."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.embedding import (
    DatasetNotFoundError,
    InvalidFilterError,
    SchemaMismatchError,
    VectorStore,
)
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def vectors(settings: Settings) -> VectorStore:
    return VectorStore.from_settings(settings)


def test_search_ranks_semantic_matches_first(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    vectors.upsert("reviews", embedded_reviews, "review_id")
    hits = vectors.search("reviews", "the phone charger stopped working", k=5)
    assert hits.columns[:3] == ["score", "review_id", "text"]
    assert {"category", "created_at", STAGED_SNAPSHOT_ID} <= set(hits.columns)
    assert hits.height == 5
    assert hits["score"].is_sorted(descending=True)
    assert hits["category"][0] == "electronics"
    assert "charger" in hits["text"][0]


def test_search_with_filter_returns_only_matching_rows(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    vectors.upsert("reviews", embedded_reviews, "review_id")
    hits = vectors.search("reviews", "a great gift", k=20, where="category = 'books'")
    assert hits.height == 20
    assert set(hits["category"]) == {"books"}
    books = embedded_reviews.filter(pl.col("category") == "books").height
    assert vectors.count("reviews", "category = 'books'") == books


def test_rerun_changes_nothing(vectors: VectorStore, embedded_reviews: pl.DataFrame) -> None:
    first = vectors.upsert("reviews", embedded_reviews, "review_id")
    again = vectors.upsert("reviews", embedded_reviews, "review_id")
    assert first["inserted"] == embedded_reviews.height
    assert (again["inserted"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert vectors.count("reviews") == embedded_reviews.height


def test_second_batch_inserts_new_and_updates_changed_rows(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    vectors.upsert("reviews", embedded_reviews.head(400), "review_id")
    second = embedded_reviews.slice(300).with_columns(
        pl.when(pl.col("review_id") == "r-000000300")
        .then(pl.lit("kitchen"))
        .otherwise(pl.col("category"))
        .alias("category"),
        pl.lit(2, pl.Int64).alias(STAGED_SNAPSHOT_ID),
    )
    result = vectors.upsert("reviews", second, "review_id")
    assert result["inserted"] == 200
    assert result["updated"] == 100  # the overlap moved to snapshot 2
    assert vectors.count("reviews") == 600
    assert vectors.count("reviews", f"{STAGED_SNAPSHOT_ID} = 2") == 300
    assert vectors.count("reviews", "review_id = 'r-000000300' AND category = 'kitchen'") == 1


def test_replace_partition_swaps_that_partition_only(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    day1, day2 = embedded_reviews.head(300), embedded_reviews.tail(300)
    vectors.replace_partition("reviews", "2024-01-01", day1, id_column="review_id")
    vectors.replace_partition("reviews", "2024-01-02", day2)
    reuploaded = vectors.replace_partition("reviews", "2024-01-01", day1.head(100))
    assert reuploaded["deleted"] == 200
    assert vectors.count("reviews", f"{SOURCE_KEY} = '2024-01-01'") == 100
    assert vectors.count("reviews", f"{SOURCE_KEY} = '2024-01-02'") == 300
    deleted = vectors.replace_partition("reviews", "2024-01-02", day2.head(0))
    assert deleted["deleted"] == 300
    assert vectors.count("reviews") == 100


def test_table_with_the_former_column_names_is_renamed_on_open(
    settings: Settings, vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    vectors.replace_partition("reviews", "day-1", embedded_reviews.head(50), id_column="review_id")
    vectors.table("reviews").alter_columns(  # the names an earlier version wrote
        {"path": SOURCE_KEY, "rename": "source_key"},
        {"path": STAGED_SNAPSHOT_ID, "rename": "snapshot_id"},
    )
    reopened = VectorStore.from_settings(settings)
    assert {SOURCE_KEY, STAGED_SNAPSHOT_ID} <= set(reopened.table("reviews").schema.names)
    assert reopened.count("reviews", f"{SOURCE_KEY} = 'day-1'") == 50
    replaced = reopened.replace_partition("reviews", "day-1", embedded_reviews.head(20))
    assert (replaced["deleted"], reopened.count("reviews")) == (30, 20)


def test_index_recall_against_exact_search(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    vectors.upsert("reviews", embedded_reviews.head(200), "review_id")
    small = vectors.ensure_index("reviews")
    assert (small.index_type, small.action) == ("flat", "none")  # below 256 rows

    vectors.upsert("reviews", embedded_reviews, "review_id")
    report = vectors.ensure_index("reviews")
    assert (report.index_type, report.action) == ("IVF_FLAT", "built")
    assert vectors.index_stats("reviews").num_indexed_rows == 600
    assert report.recall >= 0.95
    recall = vectors.recall_at_k("reviews", ["broken kettle", "kids love this puzzle"], k=10)
    assert recall.index_type == "IVF_FLAT"
    assert recall.recall >= 0.95
    indexed = vectors.search("reviews", "broken kettle", k=10)
    exact = vectors.search("reviews", "broken kettle", k=10, exact=True)
    assert indexed["review_id"][0] == exact["review_id"][0]
    assert vectors.ensure_index("reviews").action == "unchanged"


def test_index_takes_in_new_rows(vectors: VectorStore, embedded_reviews: pl.DataFrame) -> None:
    vectors.upsert("reviews", embedded_reviews.head(500), "review_id")
    vectors.ensure_index("reviews")
    vectors.upsert("reviews", embedded_reviews, "review_id")
    assert vectors.index_stats("reviews").num_unindexed_rows == 100
    report = vectors.ensure_index("reviews")
    assert report.action == "updated"
    assert vectors.index_stats("reviews").num_unindexed_rows == 0


def test_empty_and_missing_tables(vectors: VectorStore, embedded_reviews: pl.DataFrame) -> None:
    with pytest.raises(DatasetNotFoundError, match="No vectors for dataset 'reviews'"):
        vectors.search("reviews", "anything")
    vectors.replace_partition("reviews", "p", embedded_reviews.head(3), id_column="review_id")
    vectors.replace_partition("reviews", "p", embedded_reviews.head(0))
    assert vectors.count("reviews") == 0
    assert vectors.search("reviews", np.eye(384, dtype=np.float32)[0]).height == 0


def test_bad_filter_is_a_clear_error(vectors: VectorStore, embedded_reviews: pl.DataFrame) -> None:
    vectors.upsert("reviews", embedded_reviews.head(10), "review_id")
    with pytest.raises(InvalidFilterError, match="No field named colour"):
        vectors.search("reviews", "x", where="colour = 'red'")
    with pytest.raises(InvalidFilterError, match="invalid filter"):
        vectors.count("reviews", "category = ")


def test_rows_that_do_not_fit_are_refused(
    vectors: VectorStore, embedded_reviews: pl.DataFrame
) -> None:
    twice = pl.concat([embedded_reviews.head(2), embedded_reviews.head(1)])
    with pytest.raises(SchemaMismatchError, match="duplicates"):
        vectors.upsert("reviews", twice, "review_id")
    with pytest.raises(SchemaMismatchError, match="no 'vector' column"):
        vectors.upsert("reviews", embedded_reviews.drop("vector"), "review_id")
    vectors.upsert("reviews", embedded_reviews.head(2), "review_id")
    with pytest.raises(SchemaMismatchError, match="differ"):
        vectors.upsert("reviews", embedded_reviews.head(2).drop("category"), "review_id")


def test_local_path_variant_keeps_the_bucket_empty(
    settings: Settings, store: ObjectStore, tmp_path: Path, embedded_reviews: pl.DataFrame
) -> None:
    local = VectorStore.from_settings(settings, local_path=tmp_path / "lance")
    local.upsert("reviews", embedded_reviews.head(50), "review_id")
    assert local.search("reviews", "a fun toy for kids", k=3).height == 3
    assert (tmp_path / "lance" / "reviews.lance").is_dir()
    assert list(store.list("vectors/")) == []


def test_row_cache_matches_direct_reads_and_follows_writes(
    settings: Settings, embedded_reviews: pl.DataFrame
) -> None:
    cached = VectorStore.from_settings(settings, read_consistency=timedelta(0))
    direct = VectorStore.from_settings(settings, row_cache_rows=0)
    cached.upsert("reviews", embedded_reviews, "review_id")
    query = "this blender is great"
    first = cached.search("reviews", query, k=10)
    _assert_same_hits(first, direct.search("reviews", query, k=10))
    assert cached.row_cache_info("reviews")["rows"] == 600
    assert cached.row_cache_info("reviews")["vectors"] == 600  # searched in memory
    assert direct.row_cache_info("reviews") is None
    top = first["review_id"][0]
    # another writer changes the top hit's category: the cached store sees the new version
    changed = embedded_reviews.filter(pl.col("review_id") == top).with_columns(
        pl.lit("toys").alias("category")
    )
    direct.upsert("reviews", changed, "review_id")
    again = cached.search("reviews", query, k=10)
    assert again.filter(pl.col("review_id") == top)["category"].to_list() == ["toys"]
    _assert_same_hits(again, direct.search("reviews", query, k=10))
    assert cached.row_cache_info("reviews")["version"] == cached.table("reviews").version


def _assert_same_hits(memory: pl.DataFrame, lance: pl.DataFrame) -> None:
    """The in-memory scan and LanceDB's give the same scores and rows (ties in any order)."""
    assert memory.columns == lance.columns
    assert np.allclose(memory["score"].to_numpy(), lance["score"].to_numpy(), atol=1e-5)
    key = ["score", "review_id"]
    rounded = pl.col("score").round(4)
    assert memory.with_columns(rounded).sort(key).equals(lance.with_columns(rounded).sort(key))


def test_in_memory_scan_is_exact_and_filters_go_to_lancedb(
    settings: Settings, embedded_reviews: pl.DataFrame
) -> None:
    memory = VectorStore.from_settings(settings, exact_rows=1000)
    no_vectors = VectorStore.from_settings(settings, exact_rows=0)
    memory.upsert("reviews", embedded_reviews, "review_id")
    vectors = embedded_reviews["vector"].to_numpy()
    query = vectors[3] + vectors[400]
    query /= np.linalg.norm(query)
    got = memory.search("reviews", query, k=10)
    assert memory.row_cache_info("reviews")["vectors"] == 600
    expected = np.sort(vectors @ query)[::-1][:10]
    assert np.allclose(got["score"].to_numpy(), expected, atol=1e-5)
    _assert_same_hits(got, memory.search("reviews", query, k=10, exact=True))
    _assert_same_hits(got, no_vectors.search("reviews", query, k=10))
    assert no_vectors.row_cache_info("reviews")["vectors"] == 0
    books = memory.search("reviews", query, k=5, where="category = 'books'")
    assert books.height == 5
    assert set(books["category"]) == {"books"}
    assert memory.search("reviews", query, k=1000).height == 600
