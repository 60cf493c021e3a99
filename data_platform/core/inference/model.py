"""A real review classifier: hashed text n-grams plus numeric columns, trained with SGD.

Works on the raw demo frame and on the transformed table alike: `model_inputs` derives
``text_length`` and ``word_count`` when they are missing and casts the numeric columns
(``is_verified`` included) to Float64. Tokenising with `HashingVectorizer` is Python regex
and loop work per document, so predicting is CPU-bound and holds the GIL: the workload the
executor benchmark needs. The model is a plain picklable object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

TEXT_COLUMN = "text"
LABEL_COLUMN = "category"
NUMERIC_COLUMNS = ("rating", "price", "helpful_votes", "is_verified", "text_length", "word_count")
INPUT_COLUMNS = (TEXT_COLUMN, *NUMERIC_COLUMNS)
HASH_FEATURES = 2**16  # small vocabulary; keeps the pickled model (sent to workers) ~2.6 MB


def model_inputs(frame: pl.DataFrame) -> pl.DataFrame:
    """The model's input columns: text, then the numeric columns as Float64."""
    derived = {
        "text_length": pl.col(TEXT_COLUMN).str.len_chars(),
        "word_count": pl.col(TEXT_COLUMN).str.count_matches(r"\S+"),
    }
    missing = [expr.alias(name) for name, expr in derived.items() if name not in frame.columns]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select(
        pl.col(TEXT_COLUMN).fill_null(""),
        *(pl.col(name).cast(pl.Float64).fill_null(0.0) for name in NUMERIC_COLUMNS),
    )


@dataclass
class ReviewModel:
    """Hashing vectoriser + standardised numerics + a linear classifier (log loss)."""

    vectorizer: HashingVectorizer
    classifier: SGDClassifier
    mean: np.ndarray
    scale: np.ndarray

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def select_inputs(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Only the columns the model reads (what executors send to workers)."""
        return model_inputs(frame)

    def features(self, frame: pl.DataFrame) -> sparse.csr_matrix:
        """The sparse feature matrix of a frame (one row per review)."""
        inputs = model_inputs(frame)
        text = self.vectorizer.transform(inputs[TEXT_COLUMN].to_list())
        numeric = (inputs.select(NUMERIC_COLUMNS).to_numpy() - self.mean) / self.scale
        return sparse.hstack([text, sparse.csr_matrix(numeric)], format="csr")

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Predicted category per row (a numpy array of str)."""
        if frame.height == 0:
            return np.array([], dtype=object)
        return self.classifier.predict(self.features(frame))

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Class probabilities per row, columns in `classes` order."""
        if frame.height == 0:
            return np.empty((0, len(self.classes)))
        return self.classifier.predict_proba(self.features(frame))

    def accuracy(self, frame: pl.DataFrame, label: str = LABEL_COLUMN) -> float:
        """Share of rows whose predicted category equals `label`."""
        return float(np.mean(self.predict(frame) == frame[label].to_numpy()))


def train_model(
    frame: pl.DataFrame,
    *,
    label: str = LABEL_COLUMN,
    seed: int = 0,
    epochs: int = 10,
) -> ReviewModel:
    """Train a `ReviewModel` on a frame with text, the numeric columns and `label`.

    Args:
        frame: the demo reviews or the transformed table (see `model_inputs`).
        label: the class column.
        seed: makes training deterministic.
        epochs: passes of SGD over the data.

    Returns:
        The fitted, picklable model.
    """
    if frame.height < 10 or frame[label].n_unique() < 2:
        raise ValueError("need at least 10 rows and two classes to train")
    vectorizer = HashingVectorizer(
        n_features=HASH_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2"
    )
    inputs = model_inputs(frame)
    numeric = inputs.select(NUMERIC_COLUMNS).to_numpy()
    mean, scale = numeric.mean(axis=0), numeric.std(axis=0)
    scale[scale == 0] = 1.0
    classifier = SGDClassifier(
        loss="log_loss", alpha=1e-5, max_iter=epochs, tol=None, random_state=seed
    )
    model = ReviewModel(vectorizer, classifier, mean, scale)
    classifier.fit(model.features(frame), frame[label].cast(pl.String).to_numpy())
    return model
