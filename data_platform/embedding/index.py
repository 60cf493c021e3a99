"""Which ANN index a vector table gets, and how hard a search must look to meet a recall target.

Measured here on 100k real review embeddings (384-d) in SeaweedFS, top-10, 2 busy cores:

- IVF_FLAT, 256 partitions: built in ~40 s; nprobes 10-20 gives recall@10 of 1.00 at ~11 ms.
- IVF_PQ, 256 partitions x 48 sub-vectors: built in ~120 s; recall 0.52 (0.85 with refine
  factor 4, which reads raw vectors back from S3 and takes ~45 ms).
- IVF_HNSW_SQ: built in ~100 s; recall 0.935 at ef 128.

So IVF_FLAT is the default; it stores a second copy of the vectors (1.5 kB per row), which
is cheap next to the table itself. Below `MIN_INDEX_ROWS` rows there is no index: a flat scan
is exact and fast, and IVF_PQ training fails there anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

MIN_INDEX_ROWS = 256
INDEX_NAME = "vector_idx"
IndexType = Literal["IVF_FLAT", "IVF_PQ", "IVF_HNSW_SQ"]
INDEX_TYPES: tuple[str, ...] = ("IVF_FLAT", "IVF_PQ", "IVF_HNSW_SQ")
PQ_REFINE_FACTOR = 10
RETRAIN_GROWTH = 2.0  # rebuild (retrain centroids) once the table doubled since training

# Keys of the vector column's field metadata where the tuned search effort is kept, so every
# process that opens the table searches the way the index was validated.
META_INDEX_TYPE = "dp.index_type"
META_EFFORT = "dp.search_effort"
META_TRAINED_ROWS = "dp.index_trained_rows"
META_RECALL = "dp.index_recall"


@dataclass(frozen=True)
class IndexReport:
    """What `VectorStore.ensure_index` did and what search now uses."""

    dataset: str
    rows: int
    index_type: str  # "flat" when the table is too small for an index
    action: str  # "none", "built", "updated", "unchanged"
    seconds: float = 0.0
    num_partitions: int = 0
    search_effort: int = 0  # nprobes (IVF) or ef (HNSW) chosen by tuning
    recall: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        """Flat dict for Dagster metadata or a log line."""
        return {
            "rows": self.rows,
            "index_type": self.index_type,
            "action": self.action,
            "build_seconds": round(self.seconds, 2),
            "num_partitions": self.num_partitions,
            "search_effort": self.search_effort,
            "recall_at_10": round(self.recall, 4),
        }


def num_partitions_for(rows: int, index_type: str) -> int:
    """IVF partitions: about sqrt(rows), with at least 256 rows per partition to train on
    (Lance's k-means warns, and leaves clusters empty, below that)."""
    if index_type == "IVF_HNSW_SQ":
        return max(1, rows // 1_000_000)  # one graph per million rows
    return max(1, min(round(math.sqrt(rows)), rows // 256))


def index_config(index_type: str, rows: int, dim: int) -> Any:
    """The LanceDB index config for a table of `rows` vectors (inner product metric)."""
    from lancedb.index import HnswSq, IvfFlat, IvfPq

    parts = num_partitions_for(rows, index_type)
    if index_type == "IVF_FLAT":
        return IvfFlat(distance_type="dot", num_partitions=parts)
    if index_type == "IVF_PQ":
        return IvfPq(distance_type="dot", num_partitions=parts, num_sub_vectors=dim // 8)
    if index_type == "IVF_HNSW_SQ":
        return HnswSq(distance_type="dot", num_partitions=parts)
    raise ValueError(f"unknown index type {index_type!r}; choose one of {INDEX_TYPES}")


def effort_ladder(index_type: str, rows: int, k: int) -> list[int]:
    """Search efforts to try, cheapest first: nprobes for IVF, ef for HNSW."""
    if index_type == "IVF_HNSW_SQ":
        return [max(k, e) for e in (32, 64, 128, 256, 512)]
    parts = num_partitions_for(rows, index_type)
    ladder, probes = [], max(1, parts // 32)
    while probes < parts:
        ladder.append(probes)
        probes *= 2
    return [*ladder, parts]


def apply_effort(query: Any, index_type: str | None, effort: int | None) -> Any:
    """Set nprobes/ef (and PQ refinement) on a LanceDB vector query."""
    if not index_type or not effort:
        return query
    if index_type == "IVF_HNSW_SQ":
        return query.ef(effort)
    query = query.nprobes(effort)
    if index_type == "IVF_PQ":
        query = query.refine_factor(PQ_REFINE_FACTOR)
    return query


def needs_rebuild(stats: Any, meta: dict[str, str], rows: int, index_type: str) -> bool:
    """Whether to (re)train the index rather than append new rows to it."""
    if stats is None or meta.get(META_INDEX_TYPE) != index_type:
        return True
    trained = int(meta.get(META_TRAINED_ROWS, "0") or 0)
    return trained == 0 or rows > RETRAIN_GROWTH * trained
