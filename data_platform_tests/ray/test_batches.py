"""Predictions over Ray Data actors on the 3-node cluster: the one-process answers.

Embedding on the cluster is tested end to end, through the asset (defs/test_on_ray_cluster.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from data_platform.inference.model import train_model
from data_platform.ray.batches import PredictBatch, map_on_ray
from data_platform.ray.driver import ray_driver
from data_platform.synthetic import generate_reviews, review_model_spec

pytestmark = [pytest.mark.cluster]


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
