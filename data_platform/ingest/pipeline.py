"""One straight path from an upload's bytes to its three layers, batch by batch.

Each batch is read once, typed once (`convert`), cleaned and validated once, and comes out
as the rows of `raw` (typed, with rescued text: lossless), `staged` (clean and valid) and
`transformed` (features). The caller writes them; after the last batch, `verdict` is the
single decision point: publish, or quarantine with every problem named.

Once any problem is found, later batches no longer produce staged or transformed rows
(they would be thrown away), but raw rows keep coming: raw records everything readable.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from data_platform.contracts import RECORD_ID, Contract
from data_platform.contracts.columns import (
    DELETED,
    INGESTED_AT,
    RESCUED,
    SOURCE_ETAG,
    SOURCE_KEY,
    SOURCE_ROW,
    VALID_FROM,
)
from data_platform.ingest.convert import Converted, column_problems, convert, from_raw
from data_platform.ingest.features import build_features
from data_platform.ingest.formats import UploadFormat
from data_platform.ingest.problems import Problem, UploadError
from data_platform.ingest.read import Source, decompressed, read_batches
from data_platform.ingest.staged_schema import staged_schema
from data_platform.ingest.validate import UniqueTracker, clean, validate
from data_platform.privacy.deidentify import REDACTED, deidentify

MAX_PROBLEMS = 1000
DELETES = "deletes"  # the keys an upload's delete rows remove (upsert's delete_marker)
DEFAULT_BATCH_ROWS = 250_000


@dataclass(frozen=True)
class Upload:
    """The object being ingested: where it is, its partition key and the ETag read."""

    uri: str  # s3://bucket/key, for messages
    partition: str
    etag: str
    format: UploadFormat


@dataclass(frozen=True)
class LayerRows:
    """Rows of one batch for one layer (`raw`, `staged` or `transformed`).

    Each batch gives its raw rows first, as soon as they are typed, so the caller can
    write them while the batch is validated; then, while no problem has been found, its
    staged and transformed rows.
    """

    layer: str
    frame: pl.DataFrame


@dataclass
class Verdict:
    """What the upload amounts to: its rows and, if it must be quarantined, why."""

    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    columns: list[str] = field(default_factory=list)
    # personal columns: a problem there names the row and the column, never the value
    personal: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problems: list[Problem]) -> None:
        self.problem_count += len(problems)
        room = MAX_PROBLEMS - len(self.problems)
        if room > 0:
            self.problems += [self._quoted(p) for p in problems[:room]]

    def _quoted(self, problem: Problem) -> Problem:
        if problem.value is None or problem.column not in self.personal:
            return problem
        return replace(problem, value=REDACTED)


class Ingestion:
    """Ingest one upload under one contract: iterate `batches()`, then read `verdict`."""

    def __init__(
        self,
        contract: Contract,
        upload: Upload,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        spill_dir: Path | None = None,
        pii_key: str = "",
    ) -> None:
        self.contract = contract
        self.upload = upload
        self.batch_rows = batch_rows
        self.workdir = Path(tempfile.mkdtemp(prefix="ingest-", dir=spill_dir))
        self.schema = staged_schema(contract, uniqueness=False)
        self.unique = UniqueTracker(contract, self.workdir)
        self.verdict = Verdict(personal=frozenset(contract.personal))
        if contract.personal and not pii_key:
            raise ValueError(f"{contract.name} has personal columns: a de-identification key")
        self.pii_key = pii_key
        self.ingested_at = datetime.now(UTC)

    def rows(self, source: Source) -> Iterator[LayerRows]:
        """Every batch's layer rows from `source` (the upload's bytes, or a local copy)."""
        try:
            try:
                data = decompressed(source, self.upload.format, self.upload.uri, self.workdir)
                for number, frame in enumerate(
                    read_batches(data, self.upload.format, self.upload.uri, self.batch_rows)
                ):
                    if number == 0:
                        self.verdict.columns = [c for c in frame.columns if c != SOURCE_ROW]
                        self.verdict.add(
                            column_problems(
                                self.verdict.columns, self.contract, self.upload.format.separator
                            )
                        )
                    yield from self._batch(frame)
            except UploadError as exc:
                self.verdict.add([exc.problem])
                return
            if self.verdict.rows == 0 and self.verdict.ok:
                self.verdict.add([Problem("the file has a header but no rows")])
            self.verdict.add(self.unique.problems())
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _present(self) -> list[str]:
        """Declared columns the upload has (missing ones are reported once, not per row)."""
        return [c for c in self.contract.columns if c in self.verdict.columns]

    def replay(self, raw: pl.DataFrame) -> dict[str, pl.DataFrame]:
        """Re-decide from rows of the raw table (their rescued text is their problems).

        Returns the staged and transformed rows when the verdict is to publish.
        """
        self.verdict.columns = list(self.contract.columns)
        converted = from_raw(raw, self.contract)
        marker = self.contract.delete_marker
        # upsert's delete marker, an undeclared column, is in each row's rescued text
        texts = (
            pl.DataFrame({marker: raw.get_column(RESCUED).str.json_path_match(f"$.{marker}")})
            if marker
            else None
        )
        rows = self._build(converted, raw.height, texts)
        layers = {r.layer: r.frame for r in rows if r.layer != "raw"}
        if self.verdict.rows == 0 and self.verdict.ok:
            self.verdict.add([Problem("the raw partition has no rows")])
        self.verdict.add(self.unique.problems())
        shutil.rmtree(self.workdir, ignore_errors=True)
        return layers if self.verdict.ok else {}

    def _batch(self, frame: pl.DataFrame) -> Iterator[LayerRows]:
        return self._build(convert(frame, self.contract), frame.height, frame)

    def _build(
        self, converted: Converted, height: int, texts: pl.DataFrame | None = None
    ) -> Iterator[LayerRows]:
        """`texts`: the batch as read, so a problem can quote a value as the file wrote it."""
        self.verdict.rows += height
        raw_frame = converted.frame
        deletes = self._deletes(texts)
        if deletes is not None:
            converted, texts, removed = _split_deletes(converted, texts, deletes, self.contract)
            yield LayerRows(DELETES, deidentify(removed, self.contract, self.pii_key))
        self.verdict.add(converted.problems)
        self.verdict.problem_count += converted.failed_values - len(converted.problems)
        raw = raw_frame.with_columns(
            constant(self.upload.partition).alias(SOURCE_KEY),
            constant(self.upload.etag).alias(SOURCE_ETAG),
            pl.lit(self.ingested_at).cast(pl.Datetime("us", "UTC")).alias(INGESTED_AT),
        )
        yield LayerRows("raw", raw)
        # validated even after a problem: a person fixing the file wants every problem at once
        staged = clean(converted.frame.drop(RESCUED), self.contract)
        self.verdict.add(
            validate(staged, self.schema, self._present(), failed=converted.failed, texts=texts)
        )
        self.unique.add(staged)
        if not self.verdict.ok:
            return
        # staged and every layer after it hold personal columns de-identified (raw the
        # originals): keys hash alike in every upload, so a record id derives from the hash
        staged = deidentify(staged, self.contract, self.pii_key)
        staged = with_record_id(staged, self.contract, self.upload.partition).with_columns(
            constant(self.upload.partition).alias(SOURCE_KEY)
        )
        yield LayerRows("staged", staged)
        yield LayerRows("transformed", build_features(staged, self.contract))

    def _deletes(self, texts: pl.DataFrame | None) -> pl.Series | None:
        """Which rows of the batch delete their key (upsert's `delete_marker`), if any."""
        marker = self.contract.delete_marker
        if marker is None or texts is None or marker not in texts.columns:
            return None
        values = texts.get_column(marker).cast(pl.String).str.strip_chars()
        flagged = (values == self.contract.delete_value).fill_null(False)
        return flagged if flagged.any() else None


def _split_deletes(
    converted: Converted, texts: pl.DataFrame | None, deletes: pl.Series, contract: Contract
) -> tuple[Converted, pl.DataFrame | None, pl.DataFrame]:
    """The batch less its delete rows, and the keys (with file rows) they delete.

    A delete row needs only its key: problems on its other cells are not problems.
    """
    key = list(contract.key)
    removed = converted.frame.filter(deletes).select(*key, SOURCE_ROW)
    gone = set(removed.get_column(SOURCE_ROW).to_list())
    problems = [p for p in converted.problems if p.row not in gone or p.column in key]
    kept = ~deletes
    failed = {c: m.filter(kept) for c, m in converted.failed.items()}
    lost = sum(int(m.filter(deletes).sum()) for c, m in converted.failed.items() if c not in key)
    rest = Converted(
        frame=converted.frame.filter(kept),
        problems=problems,
        failed_values=converted.failed_values - lost,
        failed={c: m for c, m in failed.items() if int(m.sum())},
    )
    return rest, texts.filter(kept) if texts is not None else None, removed


def constant(value: str) -> pl.Expr:
    """`value` on every row of a batch (the upload's key, its ETag), as a one-value Enum.

    A byte a row in memory instead of a string, and the tables' writer stores it as the
    dictionary it is: hashing a million equal strings only to find that out cost more than
    encoding the rest of the row's constants (`lakehouse.tables.write_data_file`).
    """
    return pl.lit(value, pl.Enum([value]))


def with_record_id(frame: pl.DataFrame, contract: Contract, partition: str) -> pl.DataFrame:
    """Add `_record_id` where the key is not one column: the key's values, or upload#row."""
    if contract.id_column != RECORD_ID:
        return frame
    if contract.key:
        parts = [pl.col(c).cast(pl.String).fill_null("") for c in contract.key]
        record = pl.concat_str(parts, separator="|")
    else:
        record = pl.lit(partition + "#") + pl.col(SOURCE_ROW).cast(pl.String)
    return frame.with_columns(record.alias(RECORD_ID))


def layer_frames(contract: Contract) -> dict[str, pl.DataFrame]:
    """Empty frames with the exact columns and types each layer's table gets."""
    typed = pl.DataFrame(schema={**contract.dtypes, SOURCE_ROW: pl.Int64})
    raw = typed.with_columns(
        pl.lit(None, pl.String).alias(RESCUED),
        pl.lit(None, pl.String).alias(SOURCE_KEY),
        pl.lit(None, pl.String).alias(SOURCE_ETAG),
        pl.lit(None, pl.Datetime("us", "UTC")).alias(INGESTED_AT),
    )
    staged = with_record_id(typed, contract, "").with_columns(
        pl.lit(None, pl.String).alias(SOURCE_KEY)
    )
    frames = {"raw": raw, "staged": staged, "transformed": build_features(staged, contract)}
    if contract.mode == "upsert":  # every published version, valid from its ingest
        frames["history"] = versions(staged, None)
    return frames


def versions(
    staged: pl.DataFrame, valid_from: datetime | None, *, deleted: bool = False
) -> pl.DataFrame:
    """Rows of an upsert dataset's history: each a version of its key, current from
    `valid_from` (when its upload was ingested); `deleted` for a delete's tombstone."""
    return staged.with_columns(
        pl.lit(valid_from).cast(pl.Datetime("us", "UTC")).alias(VALID_FROM),
        pl.lit(deleted).alias(DELETED),
    )
