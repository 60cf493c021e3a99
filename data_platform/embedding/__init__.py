"""Vector search over the lake's datasets: LanceDB tables in the bucket, kept by id.

`VectorStore` writes and searches; `ensure_index` keeps the ANN index tuned; `checks`
holds pure check functions for asset checks.
"""

from __future__ import annotations

import os

# Lance's Rust log (read once, when lancedb loads): errors only. Its index-building
# warnings (e.g. "KMeans: more than 10% of clusters are empty" on a small or repetitive
# sample) are about partition counts the platform chose, not for the user to act on;
# LANCEDB_LOG=warn (or info, debug) shows them again.
os.environ.setdefault("LANCEDB_LOG", "error")

from data_platform.embedding.errors import (
    DatasetNotFoundError,
    InvalidFilterError,
    SchemaMismatchError,
    VectorStoreError,
)
from data_platform.embedding.index import MIN_INDEX_ROWS, IndexReport
from data_platform.embedding.query import SCORE_COLUMN
from data_platform.embedding.store import VectorStore
from data_platform.embedding.tuning import RecallReport

__all__ = [
    "MIN_INDEX_ROWS",
    "SCORE_COLUMN",
    "DatasetNotFoundError",
    "IndexReport",
    "InvalidFilterError",
    "RecallReport",
    "SchemaMismatchError",
    "VectorStore",
    "VectorStoreError",
]
