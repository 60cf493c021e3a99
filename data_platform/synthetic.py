"""Deterministic synthetic datasets that scale to millions of rows.

The demo datasets have free text, a category label, numeric features, booleans and
timestamps. Text is built from per-class vocabularies, so a model (or an embedding)
can learn the label from it, with some noise so it is not trivial. Everything is
vectorised (numpy + polars): 1M rows take about a second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

REVIEW_CLASSES = ("books", "electronics", "kitchen", "toys", "sports")
# what the executor benchmark's model predicts from a generated review (its CPU workload)
REVIEW_MODEL_INPUTS = {
    "target": "category",
    "text": ("text",),
    "numeric": ("rating", "price", "helpful_votes", "is_verified"),
}
TICKET_CLASSES = ("low", "medium", "high", "urgent")

_REVIEW_NOUNS = {
    "books": ["novel", "paperback", "story", "author", "chapter", "plot", "hardcover"],
    "electronics": ["charger", "battery", "screen", "headphones", "cable", "laptop", "speaker"],
    "kitchen": ["pan", "knife", "blender", "kettle", "spatula", "toaster", "cutting board"],
    "toys": ["puzzle", "doll", "lego set", "board game", "toy car", "plush bear", "kite"],
    "sports": ["yoga mat", "dumbbell", "running shoes", "tennis racket", "bike helmet", "ball"],
}
_SENTIMENT = {
    1: ["is terrible", "broke after a day", "was a waste of money", "disappointed me"],
    2: ["is below average", "feels cheap", "did not meet expectations", "is flimsy"],
    3: ["is okay", "does the job", "is fine for the price", "is average"],
    4: ["is very good", "works well", "exceeded my hopes", "is solid"],
    5: ["is excellent", "is perfect", "is the best I have bought", "is fantastic"],
}
_OPENERS = ["This", "The", "My new", "Our", "That", "The second"]
_CLOSERS = [
    "Would buy again.",
    "Shipping was quick.",
    "Returned it.",
    "Gift for my kid.",
    "Recommended by a friend.",
    "",
]
_TICKET_TOPICS = {
    "low": ["question about invoice", "feature idea", "typo on the website", "how to export"],
    "medium": ["login is slow", "report looks wrong", "email not received", "sync delayed"],
    "high": ["payments failing", "cannot log in", "data missing", "api errors"],
    "urgent": ["site is down", "security breach", "all orders lost", "outage in production"],
}
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def review_model_spec() -> Any:
    """The `ModelSpec` of the benchmark's review classifier (imported lazily: sklearn)."""
    from data_platform.inference.model import ModelSpec

    return ModelSpec(**REVIEW_MODEL_INPUTS)  # type: ignore[arg-type]


def _timestamps(seconds: np.ndarray) -> pl.Series:
    micros = (int(_EPOCH.timestamp()) + seconds.astype(np.int64)) * 1_000_000
    return pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


def _pick(rng: np.random.Generator, words: list[str], idx: np.ndarray) -> pl.Series:
    del rng
    return pl.Series(words, dtype=pl.String).gather(idx)


def _per_class_words(
    rng: np.random.Generator,
    classes: tuple[str, ...],
    vocab: dict[str, list[str]],
    labels: np.ndarray,
) -> pl.Series:
    """For each row, a word from its class vocabulary (flattened lookup, vectorised)."""
    flat = [w for c in classes for w in vocab[c]]
    offsets = np.cumsum([0] + [len(vocab[c]) for c in classes])
    sizes = np.diff(offsets)
    choice = (rng.random(len(labels)) * sizes[labels]).astype(np.int64)
    return _pick(rng, flat, offsets[labels] + choice)


def generate_reviews(rows: int, seed: int = 0, start_id: int = 0) -> pl.DataFrame:
    """Product reviews: id, text, category (label), rating, price, votes, flag, timestamp."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(REVIEW_CLASSES), rows)
    # 10% of texts mention another category's item: label noise a model must live with
    noisy = np.where(rng.random(rows) < 0.1, rng.integers(0, len(REVIEW_CLASSES), rows), labels)
    rating = rng.choice([1, 2, 3, 4, 5], rows, p=[0.08, 0.1, 0.17, 0.3, 0.35])
    flat_sent = [s for r in range(1, 6) for s in _SENTIMENT[r]]
    sentiment = _pick(rng, flat_sent, (rating - 1) * 4 + rng.integers(0, 4, rows))
    text = pl.DataFrame(
        {
            "o": _pick(rng, _OPENERS, rng.integers(0, len(_OPENERS), rows)),
            "n": _per_class_words(rng, REVIEW_CLASSES, _REVIEW_NOUNS, noisy),
            "s": sentiment,
            "c": _pick(rng, _CLOSERS, rng.integers(0, len(_CLOSERS), rows)),
        }
    ).select(pl.concat_str(["o", "n", "s"], separator=" ") + pl.lit(". ") + pl.col("c"))
    seconds = rng.integers(0, 700 * 86400, rows)
    base_price = np.array([15.0, 120.0, 40.0, 25.0, 60.0])[labels]
    return pl.DataFrame(
        {
            "review_id": pl.Series(np.arange(start_id, start_id + rows)).cast(pl.String),
            "text": text.to_series().str.strip_chars(),
            "category": _pick(rng, list(REVIEW_CLASSES), labels),
            "rating": pl.Series(rating, dtype=pl.Int64),
            "price": pl.Series(np.round(base_price * rng.lognormal(0, 0.5, rows), 2)),
            "helpful_votes": pl.Series(rng.poisson(2.0, rows), dtype=pl.Int64),
            "is_verified": pl.Series(rng.random(rows) < 0.8),
            "created_at": _timestamps(seconds),
        }
    ).with_columns(pl.lit("r-").add(pl.col("review_id").str.zfill(9)).alias("review_id"))


def generate_tickets(rows: int, seed: int = 0, start_id: int = 0) -> pl.DataFrame:
    """Support tickets: id, body, priority (label), minutes to first reply, escalation."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(TICKET_CLASSES), rows)
    body = _per_class_words(rng, TICKET_CLASSES, _TICKET_TOPICS, labels)
    seconds = rng.integers(0, 365 * 86400, rows)
    return pl.DataFrame(
        {
            "ticket_id": pl.Series(np.arange(start_id, start_id + rows)).cast(pl.String),
            "body": "Customer reports: " + body,
            "priority": _pick(rng, list(TICKET_CLASSES), labels),
            "reply_minutes": pl.Series(np.round(rng.exponential(60 / (labels + 1)), 1)),
            "is_escalated": pl.Series(rng.random(rows) < (labels / 6)),
            "opened_at": _timestamps(seconds),
        }
    ).with_columns(pl.lit("t-").add(pl.col("ticket_id").str.zfill(7)).alias("ticket_id"))
