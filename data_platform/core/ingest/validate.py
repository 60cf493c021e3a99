"""Cleaning and validating typed rows: the contract's rules, each failure on a source row.

Validation runs once per batch with the Pandera schema built from the contract; values
must also be unique across the whole upload, which no single batch can see, so uniqueness
is tracked over the batches by hashing (spilled to disk past `SPILL_ROWS`, so memory does
not grow with the file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from data_platform.contracts import Contract
from data_platform.core.ingest.read import SOURCE_ROW
from data_platform.core.problems import Problem

MAX_PROBLEMS = 1000
BUCKETS = 64
SPILL_ROWS = 1_000_000


def clean(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Strings trimmed, empty strings missing, whitespace runs in text columns collapsed.

    The regex replace costs about 0.5 s per million texts, so it runs only on a batch that
    has something to collapse (a `contains` test is six times cheaper).
    """
    exprs = []
    for name, column in contract.columns.items():
        if column.type != "string":
            continue
        cleaned = pl.col(name).str.strip_chars()
        if (
            name in contract.text
            and frame.select(pl.col(name).str.contains(r"\s\s|[\t\n\r\x0b\x0c]").any()).item()
        ):
            cleaned = cleaned.str.replace_all(r"\s+", " ")
        exprs.append(
            pl.when(cleaned.str.len_bytes() == 0).then(None).otherwise(cleaned).alias(name)
        )
    return frame.with_columns(exprs) if exprs else frame


def validate(
    frame: pl.DataFrame, schema: pa.DataFrameSchema, columns: Sequence[str]
) -> list[Problem]:
    """Pandera's rule violations in `frame`'s `columns`, each on its `_source_row`.

    Columns outside `columns` (missing from the upload: already a problem) are not checked,
    so a missing column is reported once, not once per row. One problem per cell: the
    first rule it breaks.
    """
    missing = [c for c in schema.columns if c not in columns]
    if missing:
        schema = schema.remove_columns(missing)
    try:
        schema.validate(frame.select(list(schema.columns)), lazy=True)
    except SchemaErrors as exc:
        return _failure_problems(exc.failure_cases, frame.get_column(SOURCE_ROW))
    return []


def _failure_problems(cases: pl.DataFrame, rows: pl.Series) -> list[Problem]:
    problems = []
    seen: set[tuple[object, object]] = set()
    for case in cases.iter_rows(named=True):
        if len(problems) >= MAX_PROBLEMS:
            break
        index = case.get("index")
        cell = (index, case.get("column"))
        if index is not None and cell in seen:
            continue
        seen.add(cell)
        value = case.get("failure_case")
        problems.append(
            Problem(
                f"fails check {case.get('check')}",
                row=int(rows[int(index)]) if index is not None else None,
                column=case.get("column"),
                value=None if value is None else str(value),
            )
        )
    return problems


class UniqueTracker:
    """Finds repeated values of unique columns (and the key) across all batches.

    Each constraint keeps (hash, row) pairs in `BUCKETS` buckets by the hash's top bits;
    past `SPILL_ROWS` rows the buckets go to files, so only one bucket is ever sorted in
    memory. 64-bit hashes: a false repeat needs a collision (about 1 in 10^8 for a 1M-row
    upload).
    """

    def __init__(self, contract: Contract, spill_dir: Path | None = None) -> None:
        self.constraints: list[tuple[str, ...]] = [
            (name,) for name, column in contract.columns.items() if column.unique
        ]
        if contract.key and tuple(contract.key) not in self.constraints:
            self.constraints.append(tuple(contract.key))
        self.spill_dir = spill_dir
        self.rows = 0
        self._memory: dict[tuple[str, ...], list[list[np.ndarray]]] = {
            c: [[] for _ in range(BUCKETS)] for c in self.constraints
        }
        self._files: dict[tuple[str, ...], list[Path]] | None = None

    def add(self, frame: pl.DataFrame) -> None:
        if not self.constraints or frame.height == 0:
            return
        rows = frame.get_column(SOURCE_ROW).to_numpy().astype(np.int64)
        for columns in self.constraints:
            hashed = frame.select(pl.struct(columns).hash(seed=7)).to_series().to_numpy()
            pairs = np.column_stack([hashed.view(np.int64), rows])
            bucket = (hashed >> np.uint64(58)).astype(np.int64)
            order = np.argsort(bucket, kind="stable")
            bounds = np.searchsorted(bucket[order], np.arange(BUCKETS + 1))
            for b in range(BUCKETS):
                part = pairs[order[bounds[b] : bounds[b + 1]]]
                if len(part):
                    self._store(columns, b, part)
        self.rows += frame.height
        if self._files is None and self.rows > SPILL_ROWS:
            self._spill()

    def problems(self) -> list[Problem]:
        """One problem per repeated row, naming the first row it repeats."""
        found: list[Problem] = []
        for columns in self.constraints:
            for b in range(BUCKETS):
                pairs = self._load(columns, b)
                if len(pairs) < 2:
                    continue
                pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
                same = pairs[1:, 0] == pairs[:-1, 0]
                for i in np.flatnonzero(same):
                    first = pairs[: i + 1][pairs[: i + 1, 0] == pairs[i + 1, 0]][0, 1]
                    found.append(_repeat(columns, int(pairs[i + 1, 1]), int(first)))
                    if len(found) >= MAX_PROBLEMS:
                        return sorted(found, key=lambda p: p.row or 0)
        return sorted(found, key=lambda p: p.row or 0)

    def _store(self, columns: tuple[str, ...], bucket: int, part: np.ndarray) -> None:
        if self._files is None:
            self._memory[columns][bucket].append(part)
        else:
            with self._files[columns][bucket].open("ab") as handle:
                part.tofile(handle)

    def _load(self, columns: tuple[str, ...], bucket: int) -> np.ndarray:
        if self._files is None:
            parts = self._memory[columns][bucket]
            return np.concatenate(parts) if parts else np.empty((0, 2), np.int64)
        path = self._files[columns][bucket]
        if not path.exists():
            return np.empty((0, 2), np.int64)
        return np.fromfile(path, dtype=np.int64).reshape(-1, 2)

    def _spill(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="unique-", dir=self.spill_dir))
        self._files = {
            c: [folder / f"{i}-{b}.bin" for b in range(BUCKETS)]
            for i, c in enumerate(self.constraints)
        }
        memory, self._memory = self._memory, {}
        for columns, buckets in memory.items():
            for b, parts in enumerate(buckets):
                for part in parts:
                    self._store(columns, b, part)


def _repeat(columns: tuple[str, ...], row: int, first: int) -> Problem:
    if len(columns) == 1:
        return Problem(f"not unique: the same value as row {first}", row=row, column=columns[0])
    names = ", ".join(columns)
    return Problem(f"key ({names}) not unique: the same as row {first}", row=row)
