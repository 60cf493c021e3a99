"""Embedding and prediction over Ray Data actors on the 3-node cluster: the one-process answers."""

from __future__ import annotations

import numpy as np
import pytest

from data_platform.core.embedding import embed_frame, get_embedder
from data_platform.core.generate import generate_reviews, review_model_spec
from data_platform.core.inference import train_model
from data_platform.core.ray_batches import EmbedBatch, PredictBatch, map_on_ray
from data_platform.core.ray_driver import ray_driver

pytestmark = [pytest.mark.cluster]


def test_embedding_on_three_nodes_matches_one_process(ray_cluster):
    rows = generate_reviews(90, seed=4).select("review_id", "text")
    single = embed_frame(rows, "text", embedder=get_embedder(threads=1))
    expected = np.array(single["vector"].to_list(), dtype=np.float32)
    with ray_driver(ray_cluster.address, ray_cluster.token_file):
        outcome = map_on_ray(
            rows.to_arrow(),
            EmbedBatch,
            model_kwargs={"text_column": "text"},
            actors=3,
            batch_size=16,
        )
    vectors = np.array(outcome.data.column("vector").to_pylist(), dtype=np.float32)
    assert vectors.shape == expected.shape == (90, 384)
    assert np.allclose(vectors, expected, atol=1e-5)
    assert len(outcome.nodes) > 1, outcome.nodes  # the work really spread


def test_predictions_on_the_cluster_match_one_process(ray_cluster):
    spec = review_model_spec()
    model = train_model(generate_reviews(1_500, seed=1), spec)
    unseen = generate_reviews(700, seed=2)
    expected = model.predict_proba(unseen)
    inputs = model.select_inputs(unseen)
    with ray_driver(ray_cluster.address, ray_cluster.token_file):
        outcome = map_on_ray(
            inputs.to_arrow(),
            PredictBatch,
            model_kwargs={"model": model, "method": "predict_proba"},
            actors=3,
            batch_size=100,
        )
    probabilities = np.array(outcome.data.column("output").to_pylist())
    assert np.allclose(probabilities, expected, atol=1e-9)
    assert (probabilities.argmax(axis=1) == expected.argmax(axis=1)).all()
    assert len(outcome.nodes) > 1, outcome.nodes
