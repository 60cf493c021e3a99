"""An in-process cache of a vector table's small columns, so a search reads only the index.

On S3, fetching the id, text and filter columns of the 10 hits costs a ranged GET per column
(measured: ~5-15 ms each over loopback, 3-4x the ANN search itself). The non-vector columns
are small (100k reviews: ~10 MB, scanned in ~0.1 s), so the store keeps them in memory per
table version and asks LanceDB only for ``_rowid`` and ``_distance``. Row ids are positions
within one table version, so a new version (any write, ours or another process's, seen
after the read-consistency interval) drops the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

ROW_ID = "_rowid"


@dataclass(frozen=True)
class RowCache:
    """Non-vector columns of one table version, sorted by row id."""

    version: int
    row_ids: np.ndarray
    rows: pl.DataFrame

    @property
    def nbytes(self) -> int:
        return int(self.rows.estimated_size()) + self.row_ids.nbytes

    def lookup(self, row_ids: np.ndarray) -> pl.DataFrame | None:
        """Rows for these row ids in the given order, or None if any is unknown."""
        if len(self.row_ids) == 0:
            return None if len(row_ids) else self.rows.head(0)
        positions = np.searchsorted(self.row_ids, row_ids)
        positions = np.minimum(positions, len(self.row_ids) - 1)
        if not np.array_equal(self.row_ids[positions], row_ids):
            return None
        return self.rows[positions]


def load_row_cache(table: Any, columns: list[str], version: int) -> RowCache:
    """Scan ``columns`` (plus row ids) of the current table version into memory."""
    arrow = table.search().select([ROW_ID, *columns]).to_arrow()
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.sort(ROW_ID)
    row_ids = frame.get_column(ROW_ID).to_numpy()
    return RowCache(version, row_ids, frame.drop(ROW_ID))
