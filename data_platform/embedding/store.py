"""The vector store: one LanceDB table per dataset, in the lake's bucket or a local folder.

Each row is one row of the source dataset: its id column (the key), its text, the embedding
in ``vector``, and the columns a user filters on (category, timestamps, the staged
snapshot it came from in ``_staged_snapshot_id``, its source partition in ``_source_key``:
the names of `data_platform.contracts.columns`). Writes are ``merge_insert`` by id, so
re-running a batch changes nothing; a source partition is replaced in one commit. Table
handles are cached, so repeated searches skip re-opening. A table written before those
columns had their current names is renamed when it is opened.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from data_platform.contracts.columns import SOURCE_KEY, former_renames
from data_platform.embedding.errors import DatasetNotFoundError, guard_filter
from data_platform.embedding.index import INDEX_NAME
from data_platform.embedding.model import EMBEDDING_DIM, VECTOR_COLUMN, Embedder
from data_platform.embedding.query import SCORE_COLUMN, search_table
from data_platform.embedding.rowcache import RowCache, load_row_cache
from data_platform.embedding.rows import (
    META_ID,
    META_TEXT,
    changed_condition,
    field_metadata,
    quote,
    to_table_rows,
)
from data_platform.embedding.tuning import RecallReport, ensure_index, recall_at_k

if TYPE_CHECKING:
    from data_platform.embedding.index import IndexReport
    from data_platform.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class VectorStore:
    """Vector tables of the lake's datasets.

    Args:
        uri: LanceDB URI: ``s3://bucket/vectors`` or a local folder.
        storage_options: Object-store options (from `lance_storage_options`).
        embedder: Embeds text queries; defaults to the process-wide `get_embedder()`.
        read_consistency: How stale a cached table handle may be before it re-checks the
            latest version (writes from other processes show up after this interval).
        row_cache_rows: Cache the non-vector columns of tables up to this many rows in
            memory, so a search reads only the index from storage; 0 disables.
        exact_rows: Also keep the vectors in memory for tables up to this many rows (1.5 kB
            a row at 384-d) and answer unfiltered searches by an exact scan there; 0 disables.
        embedding_backend: Which runtime embeds text queries when no embedder is given
            (`data_platform.embedding.backends`); the one the rows were embedded with.
        embedding_cache_dir: Where that backend's exports are kept (`from_settings`: under
            the platform's home).
    """

    def __init__(
        self,
        uri: str,
        storage_options: dict[str, str] | None = None,
        *,
        embedder: Embedder | None = None,
        read_consistency: timedelta | None = timedelta(seconds=5),
        row_cache_rows: int = 1_000_000,
        exact_rows: int = 200_000,
        embedding_backend: str = "torch",
        embedding_cache_dir: Path | None = None,
    ) -> None:
        import lancedb

        self.uri = uri
        self._db = lancedb.connect(
            uri, storage_options=storage_options, read_consistency_interval=read_consistency
        )
        self._embedder = embedder
        self._tables: dict[str, Any] = {}
        self._row_caches: dict[str, RowCache] = {}
        self.row_cache_rows = row_cache_rows
        self.exact_rows = exact_rows
        self.embedding_backend = embedding_backend
        self.embedding_cache_dir = embedding_cache_dir

    @classmethod
    def from_settings(
        cls, settings: Settings, local_path: str | Path | None = None, **kwargs: Any
    ) -> VectorStore:
        """The store at ``s3://<bucket>/vectors``, or in ``local_path`` when given."""
        from data_platform.embedding.backends import cache_dir_under

        kwargs.setdefault("embedding_cache_dir", cache_dir_under(settings.home))
        if local_path is not None:
            Path(local_path).mkdir(parents=True, exist_ok=True)
            return cls(str(Path(local_path).resolve()), **kwargs)
        return cls(settings.s3_uri("vectors"), lance_storage_options(settings), **kwargs)

    # -- tables ------------------------------------------------------------------------
    def datasets(self) -> list[str]:
        """Names of the datasets that have a vector table."""
        return sorted(self._db.list_tables().tables)

    def exists(self, dataset: str) -> bool:
        return dataset in self._tables or dataset in self.datasets()

    def table(self, dataset: str) -> Any:
        """The cached LanceDB table of a dataset (raises `DatasetNotFoundError`)."""
        if dataset not in self._tables:
            if not self.exists(dataset):
                known = ", ".join(self.datasets()) or "none"
                raise DatasetNotFoundError(
                    f"No vectors for dataset {dataset!r} in {self.uri} (datasets: {known}). "
                    "Materialise its embedding asset first."
                )
            table: Any = self._db.open_table(dataset)  # lancedb types each alteration wrongly
            renames = former_renames(table.schema.names)
            if renames:  # written by an earlier version: one commit brings the names up to date
                table.alter_columns(*({"path": a, "rename": b} for a, b in renames.items()))
            self._tables[dataset] = table
        return self._tables[dataset]

    def columns(self, dataset: str) -> tuple[str, str]:
        """``(id_column, text_column)`` of a dataset's table."""
        meta = field_metadata(self.table(dataset).schema)
        return meta[META_ID], meta[META_TEXT]

    def drop(self, dataset: str) -> None:
        self._tables.pop(dataset, None)
        self._row_caches.pop(dataset, None)
        if dataset in self.datasets():
            self._db.drop_table(dataset)

    # -- writes ------------------------------------------------------------------------
    def upsert(
        self, dataset: str, frame: pl.DataFrame, id_column: str, text_column: str = "text"
    ) -> dict[str, int]:
        """Insert new ids and update known ones (``merge_insert`` by id; re-runs are no-ops).

        Args:
            dataset: Table name, e.g. ``"reviews"``.
            frame: Rows with ``id_column``, ``text_column``, a ``vector`` column
                (``Array(Float32, 384)``) and any filter columns.
            id_column: The dataset's id column, the key of the table.
            text_column: The embedded text column.

        Returns:
            Counts: ``inserted``, ``updated``, ``deleted``, ``version``.
        """
        return self._merge(dataset, frame, id_column, text_column, delete_where=None)

    def replace_partition(
        self,
        dataset: str,
        source_key: str,
        frame: pl.DataFrame,
        id_column: str | None = None,
        text_column: str = "text",
    ) -> dict[str, int]:
        """Make the rows of one source partition exactly ``frame``, in one commit.

        Rows of ``source_key`` whose ids are not in ``frame`` are deleted (an empty frame
        deletes the partition's vectors); the rest are upserted with ``_source_key`` set.

        Args:
            dataset: Table name.
            source_key: The source partition, stored in the ``_source_key`` column.
            frame: The partition's rows with vectors (may be empty).
            id_column: Needed only when the table does not exist yet.
            text_column: Needed only when the table does not exist yet.

        Returns:
            Counts as in `upsert`.
        """
        if id_column is None:
            id_column, text_column = self.columns(dataset)
        frame = frame.with_columns(pl.lit(source_key, pl.String).alias(SOURCE_KEY))
        where = f"{SOURCE_KEY} = {quote(source_key)}"
        return self._merge(dataset, frame, id_column, text_column, delete_where=where)

    def _merge(
        self,
        dataset: str,
        frame: pl.DataFrame,
        id_column: str,
        text_column: str,
        delete_where: str | None,
    ) -> dict[str, int]:
        if not (dataset in self._tables or self.exists(dataset)):
            if not _NAME.match(dataset):
                raise ValueError(f"bad dataset name {dataset!r}: letters, digits, _ . - only")
            data = to_table_rows(dataset, frame, id_column, text_column, None)
            if data.num_rows == 0:
                return {"inserted": 0, "updated": 0, "deleted": 0, "version": 0}
            try:
                self._tables[dataset] = self._db.create_table(dataset, data)
                return {"inserted": data.num_rows, "updated": 0, "deleted": 0, "version": 1}
            except ValueError as exc:  # a concurrent writer created it first: merge instead
                if "already exists" not in str(exc):
                    raise
        data = to_table_rows(dataset, frame, id_column, text_column, self.table(dataset).schema)
        merge = (
            self.table(dataset)
            .merge_insert(id_column)
            .when_matched_update_all(where=changed_condition(data.column_names, id_column))
            .when_not_matched_insert_all()
        )
        if delete_where:
            merge = merge.when_not_matched_by_source_delete(delete_where)
        result = merge.execute(data)
        return {
            "inserted": result.num_inserted_rows,
            "updated": result.num_updated_rows,
            "deleted": result.num_deleted_rows,
            "version": result.version,
        }

    # -- reads -------------------------------------------------------------------------
    def count(self, dataset: str, where: str | None = None) -> int:
        """Rows in a dataset's table, optionally matching a SQL filter."""
        table = self.table(dataset)
        rows: int = guard_filter(lambda: table.count_rows(where), where)
        return rows

    def search(
        self,
        dataset: str,
        query: str | Sequence[float] | np.ndarray,
        k: int = 10,
        where: str | None = None,
        *,
        exact: bool = False,
        effort: int | None = None,
    ) -> pl.DataFrame:
        """Nearest rows to a text or a vector, best first.

        Args:
            dataset: Table name.
            query: Text (embedded with the same model) or a 384-d unit vector.
            k: How many rows.
            where: SQL filter applied before ranking, e.g. ``"category = 'books'"``.
            exact: Bypass the ANN index (LanceDB's flat scan: exact, slower).
            effort: Override the tuned nprobes/ef (and search with the index).

        Returns:
            Columns ``score`` (cosine similarity), the id column, the text column, then
            the filter columns; empty when nothing matches.

        A table of up to ``exact_rows`` rows keeps its vectors in memory (see `rowcache`):
        an unfiltered search is then an exact scan there, faster than the index at that size.
        """
        table = self.table(dataset)
        vector = self.query_vector(query)
        cache = None if exact else self._row_cache(dataset, table)
        if cache is not None and cache.vectors is not None and not where and effort is None:
            return cache.search(vector, k, SCORE_COLUMN)  # exact, in memory, no storage read
        return search_table(table, vector, k, where, exact=exact, effort=effort, cache=cache)

    def _row_cache(self, dataset: str, table: Any) -> RowCache | None:
        """The dataset's small columns for the current version (see `rowcache`), if enabled."""
        version = table.version
        cached = self._row_caches.get(dataset)
        if cached is not None and cached.version == version:
            return cached
        self._row_caches.pop(dataset, None)
        rows = table.count_rows() if self.row_cache_rows else 0
        if not self.row_cache_rows or rows > self.row_cache_rows:
            return None
        id_column, text_column = self.columns(dataset)
        names = [n for n in table.schema.names if n not in (VECTOR_COLUMN, id_column, text_column)]
        names = [id_column, text_column, *names]  # the order of a search result
        vectors = VECTOR_COLUMN if rows <= self.exact_rows else None
        self._row_caches[dataset] = load_row_cache(table, names, version, vectors)
        return self._row_caches[dataset]

    def row_cache_info(self, dataset: str) -> dict[str, int] | None:
        """Version, rows, vectors held and bytes of the dataset's row cache, None if none."""
        cache = self._row_caches.get(dataset)
        if cache is None:
            return None
        vectors = 0 if cache.vectors is None else len(cache.vectors)
        return {
            "version": cache.version,
            "rows": len(cache.row_ids),
            "vectors": vectors,
            "bytes": cache.nbytes,
        }

    def query_vector(self, query: str | Sequence[float] | np.ndarray) -> np.ndarray:
        """A query as a float32 vector: text is embedded, vectors are checked."""
        if isinstance(query, str):
            if self._embedder is None:
                from data_platform.embedding.backends import get_backend_embedder

                self._embedder = get_backend_embedder(
                    self.embedding_backend, cache_dir=self.embedding_cache_dir
                )
            encoded: np.ndarray = self._embedder.encode([query], dedup=False)[0]
            return encoded
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape != (EMBEDDING_DIM,):
            raise ValueError(f"query vector has shape {vector.shape}, expected ({EMBEDDING_DIM},)")
        return vector

    # -- index -------------------------------------------------------------------------
    def ensure_index(self, dataset: str, **kwargs: Any) -> IndexReport:
        """Build, extend or keep the ANN index, and tune its search effort for recall.

        See `data_platform.embedding.tuning.ensure_index` for the arguments.
        """
        return ensure_index(self, dataset, **kwargs)

    def recall_at_k(
        self,
        dataset: str,
        queries: np.ndarray | Sequence[str] | None = None,
        k: int = 10,
        **kwargs: Any,
    ) -> RecallReport:
        """Recall@k of the indexed search against an exact scan (tie-aware).

        See `data_platform.embedding.tuning.recall_at_k` for the arguments.
        """
        return recall_at_k(self, dataset, queries, k, **kwargs)

    def index_stats(self, dataset: str) -> Any:
        """LanceDB's statistics of the vector index, or None without one."""
        return self.table(dataset).index_stats(INDEX_NAME)


def lance_storage_options(settings: Settings) -> dict[str, str]:
    """LanceDB's object-store options for the store."""
    return {
        "aws_endpoint": settings.endpoint,
        "aws_access_key_id": settings.access_key,
        "aws_secret_access_key": settings.secret_key,
        "aws_region": settings.s3_region,
        "allow_http": str(not settings.secure).lower(),
    }
