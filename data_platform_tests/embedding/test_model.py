"""The embedder: offline model, unit float32 vectors, order, dedup and progress."""

from __future__ import annotations

import os

import numpy as np
import polars as pl

from data_platform.embedding.model import (
    EMBEDDING_DIM,
    Embedder,
    default_threads,
    embed_frame,
    get_embedder,
)

TEXTS = [
    "The charger broke after a day.",
    "This kettle is excellent.",
    "The charger broke after a day.",
    "My kid loves this puzzle.",
    "",
]


def test_vectors_are_unit_float32_in_input_order() -> None:
    vectors = get_embedder().encode(TEXTS)
    assert vectors.shape == (len(TEXTS), EMBEDDING_DIM)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_dedup_and_chunking_give_what_plain_encode_gives() -> None:
    embedder = get_embedder()
    reference = embedder.model.encode(TEXTS, normalize_embeddings=True)
    assert np.allclose(embedder.encode(TEXTS), reference, atol=1e-5)
    small_chunks = Embedder(embedder.model, batch_size=1)
    assert np.allclose(small_chunks.encode(TEXTS, dedup=False), reference, atol=1e-5)


def test_meaning_decides_similarity() -> None:
    a, b, c = get_embedder().encode(
        ["The battery died quickly.", "The battery does not hold a charge.", "A lovely novel."]
    )
    assert a @ b > a @ c + 0.2


def test_model_is_loaded_once_per_process() -> None:
    assert get_embedder().model is get_embedder(threads=1).model
    assert get_embedder(threads=1).threads == 1
    assert default_threads() >= 1


def test_progress_reports_distinct_texts() -> None:
    calls: list[tuple[int, int]] = []
    texts = [f"review number {i % 150}" for i in range(600)]
    Embedder(get_embedder().model, batch_size=8).encode(texts, progress=lambda *c: calls.append(c))
    assert calls[-1] == (150, 150)  # 150 distinct texts, in chunks of 8 * 16
    assert [done for done, _ in calls] == [128, 150]


def test_embed_frame_adds_a_vector_column() -> None:
    frame = pl.DataFrame({"review_id": ["a", "b"], "body": ["Great pan.", "Bad cable."]})
    out = embed_frame(frame, "body")
    assert out.columns == ["review_id", "body", "vector"]
    assert out.schema["vector"] == pl.Array(pl.Float32, EMBEDDING_DIM)
    assert get_embedder().encode([]).shape == (0, EMBEDDING_DIM)
