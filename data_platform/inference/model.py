"""A real tabular model for any dataset: hashed text and categories plus numeric columns.

`ModelSpec` says what the model reads and predicts; `ModelSpec.from_contract` derives it
from a dataset contract's target and types (text columns, categorical strings, the
numeric features of the transformed table). Classification is logistic regression by SGD
with `predict_proba`; regression is SGD least squares on a standardised target.
Tokenising with `HashingVectorizer` is Python regex and loop work per document, so
predicting is CPU-bound and holds the GIL: the workload the executor benchmark needs.
The model is a plain picklable object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl
from scipy import sparse

from data_platform.contracts import Contract
from data_platform.ingest.features import feature_columns, kept_columns

if TYPE_CHECKING:  # scikit-learn takes about a second to import: only where a model trains
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier, SGDRegressor

HASH_FEATURES = 2**16  # small vocabulary; keeps the pickled model (sent to workers) ~2.6 MB
_TOKENS = "__tokens"


@dataclass(frozen=True)
class ModelSpec:
    """The model's inputs and target, by column name."""

    target: str
    task: Literal["classification", "regression"] = "classification"
    text: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    @classmethod
    def from_contract(cls, contract: Contract) -> ModelSpec:
        """Predict the contract's target from the transformed table's other columns."""
        if contract.target is None:
            raise ValueError(f"dataset {contract.name} declares no target")
        target = contract.target.column
        categorical = tuple(
            name
            for name in kept_columns(contract)
            if name != target
            and name in contract.columns
            and contract.columns[name].type == "string"
            and name not in contract.text
            and name != contract.id_column
        )
        numeric = tuple(n for n in feature_columns(contract) if n != target)
        return cls(target, contract.target.task, contract.text, categorical, numeric)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (*self.text, *self.categorical, *self.numeric)


def model_inputs(frame: pl.DataFrame, spec: ModelSpec) -> pl.DataFrame:
    """The columns the model reads: one token string (text and `column=value`), numerics."""
    words = [pl.col(c).cast(pl.String).fill_null("").str.to_lowercase() for c in spec.text]
    words += [
        pl.format(f"{c}={{}}", pl.col(c).cast(pl.String).fill_null("")) for c in spec.categorical
    ]
    tokens = pl.concat_str(words, separator=" ") if words else pl.lit("")
    return frame.select(
        tokens.alias(_TOKENS),
        *(pl.col(c).cast(pl.Float64).fill_null(0.0).fill_nan(0.0) for c in spec.numeric),
    )


@dataclass
class TabularModel:
    """Hashing vectoriser + standardised numerics + a linear model."""

    spec: ModelSpec
    vectorizer: HashingVectorizer
    estimator: SGDClassifier | SGDRegressor
    mean: np.ndarray
    scale: np.ndarray
    target_mean: float = 0.0
    target_scale: float = 1.0

    @property
    def classes(self) -> list[str]:
        if self.spec.task != "classification":
            return []
        return [str(c) for c in self.estimator.classes_]

    def select_inputs(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Only the columns the model reads (what executors send to workers)."""
        return model_inputs(frame, self.spec)

    def features(self, frame: pl.DataFrame) -> sparse.csr_matrix:
        """The sparse feature matrix of a frame (one row per record)."""
        inputs = frame if _TOKENS in frame.columns else model_inputs(frame, self.spec)
        text = self.vectorizer.transform(inputs[_TOKENS].to_list())
        if not self.spec.numeric:
            return text.tocsr()
        numeric = (inputs.select(self.spec.numeric).to_numpy() - self.mean) / self.scale
        return sparse.hstack([text, sparse.csr_matrix(numeric)], format="csr")

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Predicted class (numpy array of str) or value per row."""
        if frame.height == 0:
            return np.array([], dtype=object if self.classes else float)
        predicted: np.ndarray = self.estimator.predict(self.features(frame))
        if self.spec.task == "regression":
            return predicted * self.target_scale + self.target_mean
        return predicted

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Class probabilities per row, columns in `classes` order (classification)."""
        if self.spec.task != "classification":
            raise ValueError("predict_proba is for classification models")
        if frame.height == 0:
            return np.empty((0, len(self.classes)))
        probs: np.ndarray = self.estimator.predict_proba(self.features(frame))
        return probs

    def accuracy(self, frame: pl.DataFrame) -> float:
        """Share of rows whose predicted class equals the target (classification)."""
        return float(np.mean(self.predict(frame) == frame[self.spec.target].to_numpy()))


def train_model(
    frame: pl.DataFrame, spec: ModelSpec, *, seed: int = 0, epochs: int = 10
) -> TabularModel:
    """Train a `TabularModel` on a frame with the spec's inputs and target.

    Raises:
        ValueError: fewer than 10 rows with a target, or fewer than two classes.
    """
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    frame = frame.filter(pl.col(spec.target).is_not_null())
    if frame.height < 10:
        raise ValueError(f"need at least 10 rows with a {spec.target!r} to train")
    vectorizer = HashingVectorizer(
        n_features=HASH_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2"
    )
    inputs = model_inputs(frame, spec)
    numeric = inputs.select(spec.numeric).to_numpy() if spec.numeric else np.zeros((0, 0))
    mean = numeric.mean(axis=0) if spec.numeric else np.zeros(0)
    scale = numeric.std(axis=0) if spec.numeric else np.ones(0)
    scale[scale == 0] = 1.0
    if spec.task == "classification":
        if frame[spec.target].n_unique() < 2:
            raise ValueError(f"need at least two classes of {spec.target!r} to train")
        estimator: SGDClassifier | SGDRegressor = SGDClassifier(
            loss="log_loss", alpha=1e-5, max_iter=epochs, tol=None, random_state=seed
        )
        model = TabularModel(spec, vectorizer, estimator, mean, scale)
        estimator.fit(model.features(inputs), frame[spec.target].cast(pl.String).to_numpy())
        return model
    y = frame[spec.target].cast(pl.Float64).to_numpy()
    y_mean, y_scale = float(y.mean()), float(y.std() or 1.0)
    estimator = SGDRegressor(alpha=1e-4, max_iter=epochs * 5, tol=None, random_state=seed)
    model = TabularModel(spec, vectorizer, estimator, mean, scale, y_mean, y_scale)
    estimator.fit(model.features(inputs), (y - y_mean) / y_scale)
    return model
