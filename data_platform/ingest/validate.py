"""Cleaning and validating typed rows: the contract's rules, each failure on a source row.

Validation runs once per batch with the Pandera schema built from the contract; values
must also be unique across the whole upload, which no single batch can see, so uniqueness
is tracked over the batches by hashing (spilled to disk past `SPILL_ROWS`, so memory does
not grow with the file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_ROW
from data_platform.ingest.problems import Problem

MAX_PROBLEMS = 1000
BUCKETS = 64
SPILL_ROWS = 1_000_000


def clean(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """Strings trimmed, empty strings missing, whitespace runs in text columns collapsed.

    The regex replace costs about 0.5 s per million texts, so it runs only on a column
    that has something to collapse (`_has_whitespace_runs`, ten times cheaper).
    """
    strings = [name for name, column in contract.columns.items() if column.type == "string"]
    if not strings:
        return frame
    collapse = {n for n in contract.text if n in strings and _has_whitespace_runs(frame, n)}
    cleaned = frame.with_columns(
        pl.col(name).str.strip_chars().str.replace_all(r"\s+", " ")
        if name in collapse
        else pl.col(name).str.strip_chars()
        for name in strings
    )
    # a second step: in one, each cleaned value would be computed twice (eager polars
    # does not share sub-expressions)
    return cleaned.with_columns(
        pl.when(pl.col(name).str.len_bytes() == 0).then(None).otherwise(pl.col(name)).alias(name)
        for name in strings
    )


def _has_whitespace_runs(frame: pl.DataFrame, name: str) -> bool:
    """Whether `\\s+ -> " "` would change a value: two whitespace characters in a row, or
    one that is not a plain space (tab, newline, no-break space...).

    A literal search and an ASCII class are six times cheaper than Unicode's `\\s`, which
    runs only on a column with non-ASCII characters.
    """
    text = pl.col(name)
    double, control, non_ascii = frame.select(
        text.str.contains("  ", literal=True).any().alias("double"),
        text.str.contains(r"[\t\n\x0b\x0c\r]").any().alias("control"),
        (text.str.len_bytes() != text.str.len_chars()).any().alias("non_ascii"),
    ).row(0)
    if double or control:
        return True
    return bool(non_ascii) and bool(frame.select(text.str.contains(r"\s\s|[^\S ]").any()).item())


def validate(
    frame: pl.DataFrame,
    schema: pa.DataFrameSchema,
    columns: Sequence[str],
    *,
    failed: Mapping[str, pl.Series] | None = None,
    texts: pl.DataFrame | None = None,
) -> list[Problem]:
    """Pandera's rule violations in `frame`'s `columns`, each on its `_source_row`.

    Columns outside `columns` (missing from the upload: already a problem) are not checked,
    so a missing column is reported once, not once per row. One problem per cell: the
    first rule it breaks. A cell `failed` marks (its value did not parse: already a
    problem) is not reported again as a missing value. Where `texts` (the batch as read,
    row for row) has a column as text, a problem quotes the value as the file wrote it.
    """
    missing = [c for c in schema.columns if c not in columns]
    if missing:
        schema = schema.remove_columns(missing)
    try:
        schema.validate(frame.select(list(schema.columns)), lazy=True)
    except SchemaErrors as exc:
        cases = _not_failed(exc.failure_cases, failed or {})
        return _failure_problems(cases, frame.get_column(SOURCE_ROW), texts)
    return []


def _not_failed(cases: pl.DataFrame, failed: Mapping[str, pl.Series]) -> pl.DataFrame:
    """`cases` less those on cells whose value did not parse."""
    if not failed or "index" not in cases.columns:
        return cases
    cells = pl.concat(
        pl.DataFrame({"column": name, "index": mask.arg_true().cast(pl.Int64)})
        for name, mask in failed.items()
    )
    keyed = cases.with_columns(pl.col("index").cast(pl.Int64).alias("_cell"))
    return keyed.join(cells.rename({"index": "_cell"}), on=["column", "_cell"], how="anti").drop(
        "_cell"
    )


def _failure_problems(
    cases: pl.DataFrame, rows: pl.Series, texts: pl.DataFrame | None = None
) -> list[Problem]:
    problems: list[Problem] = []
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
        column = case.get("column")
        if (
            texts is not None
            and index is not None
            and column in texts.columns
            and texts.schema[column] == pl.String
        ):
            value = texts.get_column(column)[int(index)]  # as written, e.g. `Infinity`
        problems.append(
            Problem(
                f"fails check {case.get('check')}",
                row=int(rows[int(index)]) if index is not None else None,
                column=column,
                value=None if value is None else str(value),
            )
        )
    return problems


class UniqueTracker:
    """Finds repeated values of unique columns (and the key) across all batches.

    Each constraint keeps (hash, row) pairs. In memory they are sorted once at the end;
    past `SPILL_ROWS` rows they go to `BUCKETS` files by the hash's top bits, so only one
    bucket is ever sorted in memory. 64-bit hashes: a false repeat needs a collision
    (about 1 in 10^8 for a 1M-row upload).
    """

    def __init__(self, contract: Contract, spill_dir: Path | None = None) -> None:
        self.constraints: list[tuple[str, ...]] = [
            (name,) for name, column in contract.columns.items() if column.unique
        ]
        if contract.key and tuple(contract.key) not in self.constraints:
            self.constraints.append(tuple(contract.key))
        self.spill_dir = spill_dir
        self.rows = 0
        self._memory: dict[tuple[str, ...], list[np.ndarray]] = {c: [] for c in self.constraints}
        self._files: dict[tuple[str, ...], list[Path]] | None = None

    def add(self, frame: pl.DataFrame) -> None:
        if not self.constraints or frame.height == 0:
            return
        rows = frame.get_column(SOURCE_ROW).to_numpy().astype(np.int64)
        for columns in self.constraints:
            hashed = frame.select(pl.struct(columns).hash(seed=7)).to_series().to_numpy()
            pairs = np.column_stack([hashed.view(np.int64), rows])
            if any(frame.get_column(c).null_count() for c in columns):
                # a missing value (empty, unparsed, or a missing column) is no value, so it
                # repeats none (SQL's UNIQUE): it is reported once, where it is missing
                present = frame.select(pl.all_horizontal(pl.col(columns).is_not_null()))
                pairs = pairs[present.to_series().to_numpy()]
            if self._files is None:
                self._memory[columns].append(pairs)
            else:
                self._spill_pairs(columns, pairs)
        self.rows += frame.height
        if self._files is None and self.rows > SPILL_ROWS:
            self._spill()

    def problems(self) -> list[Problem]:
        """One problem per repeated row, naming the first row it repeats."""
        found: list[Problem] = []
        for columns in self.constraints:
            for pairs in self._groups(columns):
                found += _repeats(columns, pairs, MAX_PROBLEMS - len(found))
                if len(found) >= MAX_PROBLEMS:
                    return sorted(found, key=lambda p: p.row or 0)
        return sorted(found, key=lambda p: p.row or 0)

    def _groups(self, columns: tuple[str, ...]) -> Iterator[np.ndarray]:
        if self._files is None:
            parts = self._memory[columns]
            if parts:
                yield np.concatenate(parts)
            return
        for path in self._files[columns]:
            if path.exists():
                yield np.fromfile(path, dtype=np.int64).reshape(-1, 2)

    def _spill_pairs(self, columns: tuple[str, ...], pairs: np.ndarray) -> None:
        assert self._files is not None
        bucket = (pairs[:, 0].view(np.uint64) >> np.uint64(58)).astype(np.int64)
        for b in np.unique(bucket):
            with self._files[columns][b].open("ab") as handle:
                pairs[bucket == b].tofile(handle)

    def _spill(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="unique-", dir=self.spill_dir))
        self._files = {
            c: [folder / f"{i}-{b}.bin" for b in range(BUCKETS)]
            for i, c in enumerate(self.constraints)
        }
        memory, self._memory = self._memory, {}
        for columns, parts in memory.items():
            for part in parts:
                self._spill_pairs(columns, part)


def _repeats(columns: tuple[str, ...], pairs: np.ndarray, room: int) -> list[Problem]:
    """Rows whose hash repeats an earlier row's, in `pairs` of (hash, row).

    A clean upload costs one sort of the hashes; only hashes that repeat are looked at
    with their rows.
    """
    if len(pairs) < 2 or room <= 0:
        return []
    hashes = np.sort(pairs[:, 0])
    twice = hashes[1:][hashes[1:] == hashes[:-1]]
    if not len(twice):
        return []
    frame = pl.DataFrame({"hash": pairs[:, 0], "row": pairs[:, 1]})
    repeated = (
        frame.filter(pl.col("hash").is_in(np.unique(twice)))
        .with_columns(pl.col("row").min().over("hash").alias("first"))
        .filter(pl.col("row") != pl.col("first"))
        .sort("row")
        .head(room)
    )
    return [_repeat(columns, row, first) for row, first in repeated.select("row", "first").rows()]


def _repeat(columns: tuple[str, ...], row: int, first: int) -> Problem:
    if len(columns) == 1:
        return Problem(f"not unique: the same value as row {first}", row=row, column=columns[0])
    names = ", ".join(columns)
    return Problem(f"key ({names}) not unique: the same as row {first}", row=row)
