"""One partition's ingestion: custody, fetch, the three writers, the decision, the commits.

The run is a generator of plain results, so the platform's heart needs no Dagster: the
multi-asset in defs/ingest maps each `LayerWritten` to a materialization and each
`Validated` to the `schema_valid` check, and an `IngestFailed` to a failure that is not
retried. Results come as soon as they are true: each table's as soon as its commit is done
(later commits still run), the verdict before staged's, and the upload leaves landing only
once staged and transformed are both committed. On refusal: unpublish, quarantine, yield
the verdict, then raise `UploadRefused`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from data_platform.contracts import Contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.ingest.features import build_features
from data_platform.ingest.formats import upload_format
from data_platform.ingest.landing import Custody
from data_platform.ingest.pipeline import Ingestion, Upload, layer_frames
from data_platform.ingest.problems import Problem, UploadError, summarise
from data_platform.ingest.results import (
    IngestResult,
    LayerWritten,
    ReplayRefused,
    UploadMissing,
    UploadRefused,
    Validated,
)
from data_platform.lakehouse import Lakehouse, PartitionWriter, ReadResult, WriteResult
from data_platform.settings import Settings
from data_platform.storage import NotFound, ObjectStore

LAYERS = ("raw", "staged", "transformed")
IN_MEMORY_BATCH_ROWS = 1_000_000


def contract_properties(contract: Contract) -> dict[str, str]:
    """Table properties recording which contract version a table was written under."""
    return {
        "data-platform.contract.version": str(contract.version),
        "data-platform.contract.fingerprint": contract.fingerprint,
    }


@dataclass
class IngestRun:
    """One partition's ingestion: the reads, writes and the decision."""

    contract: Contract
    partition: str
    settings: Settings
    client: ObjectStore
    lake: Lakehouse
    log: Callable[[str], None]
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    custody: Custody = field(init=False)

    def __post_init__(self) -> None:
        self.custody = Custody(self.client, self.settings)
        self.frames = layer_frames(self.contract)

    def table(self, layer: str) -> str:
        return self.contract.table(layer)

    # -- the upload itself --------------------------------------------------------------------
    def from_upload(self, selected: set[str]) -> Iterator[IngestResult]:
        """Read the upload (landing, else the archive), write raw, decide, publish."""
        try:
            source_key = self.custody.source_of(self.contract.name, self.partition)
        except NotFound as exc:
            raise UploadMissing(str(exc)) from None
        info = self.client.stat(source_key)
        uri = f"s3://{self.client.bucket}/{source_key}"
        try:
            fmt = upload_format(self.partition)
        except UploadError as exc:
            yield from self._refuse(source_key, uri, info.etag, [exc.problem], 1, 0, None)
            return
        streamed = info.size > self.settings.ingest_spool_mb * 1024 * 1024
        ingestion = Ingestion(
            self.contract,
            Upload(uri, self.partition, info.etag, fmt),
            # an upload in memory is read in big batches (fewer, larger files: cheaper);
            # a streamed one in small batches, so memory stays flat whatever its size
            batch_rows=self.settings.ingest_batch_rows if streamed else IN_MEMORY_BATCH_ROWS,
            spill_dir=self._spool_dir(),
        )
        decide = "staged" in selected
        started = time.monotonic()
        previews: dict[str, pl.DataFrame] = {}
        writers: dict[str, PartitionWriter] = {}
        # the tables are opened while the upload downloads; an upload read into memory is
        # hashed against its recorded checksum while it is parsed (a mismatch fails the run
        # before anything is committed)
        helpers = ThreadPoolExecutor(1, thread_name_prefix="ingest-helper")
        try:
            opening = helpers.submit(self._writers, list(LAYERS) if decide else ["raw"])
            try:
                source, checked = self._fetch(source_key, streamed, info.size, ingestion.workdir)
            finally:
                writers = opening.result()
            verified = helpers.submit(checked) if checked else None
            for rows in ingestion.rows(source):
                if rows.layer not in writers:
                    continue  # a raw-only run: nothing is decided
                writers[rows.layer].add(rows.frame)
                previews.setdefault(rows.layer, rows.frame.head(5))
                if rows.layer == "raw" and streamed:
                    self._progress(ingestion.verdict.rows, started)
            if verified:
                verified.result()
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        finally:
            helpers.shutdown(wait=True)
            shutil.rmtree(ingestion.workdir, ignore_errors=True)
        verdict = ingestion.verdict
        properties = {"data-platform.source-etag": info.etag, **contract_properties(self.contract)}
        publish = decide and verdict.ok
        if decide and not verdict.ok:
            writers.pop("staged").abort()
            writers.pop("transformed").abort()
        in_landing = source_key == self.custody.landing_key(self.contract.name, self.partition)
        with ThreadPoolExecutor(3, thread_name_prefix="commit") as pool:
            # the tables commit in parallel, and each result is handed on (the asset's
            # events) while the later commits still run; the upload leaves landing only
            # once staged and transformed are both committed
            commits = {layer: pool.submit(w.commit, properties) for layer, w in writers.items()}
            raw = commits["raw"].result()
            yield LayerWritten(
                "raw",
                raw,
                [],
                previews.get("raw"),
                {
                    "source_object": uri,
                    "source_etag": info.etag,
                    "source_bytes": info.size,
                    "source_columns": verdict.columns,
                    "contract_version": self.contract.version,
                },
            )
            raw_read = ReadResult(self.table("raw"), pa.table({}), raw.snapshot_id)
            if not publish:  # raw alone was written (staged, transformed: none or aborted)
                if decide:
                    yield from self._refuse(
                        source_key,
                        uri,
                        info.etag,
                        verdict.problems,
                        verdict.problem_count,
                        verdict.rows,
                        raw_read,
                    )
                return
            yield Validated(uri, [], 0, verdict.rows)
            staged = commits["staged"].result()
            yield LayerWritten("staged", staged, [raw_read], previews.get("staged"))
            transformed = commits["transformed"].result()
        archived = (
            self.custody.archive_upload(self.contract.name, self.partition, info.etag)
            if in_landing
            else None
        )
        staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
        yield LayerWritten(
            "transformed",
            transformed,
            [staged_read],
            previews.get("transformed"),
            {"upload_archived_to": f"s3://{self.client.bucket}/{archived}" if archived else "-"},
        )

    def _refuse(
        self,
        source_key: str,
        uri: str,
        etag: str,
        problems: list[Problem],
        total: int,
        rows: int,
        raw_read: ReadResult | None,
    ) -> Iterator[IngestResult]:
        """The one place an upload is refused: staged and transformed unpublished, quarantine."""
        self._unpublish()
        message = summarise(uri, problems, total=total)
        report = {
            "error": message,
            "problem_count": total,
            "problems": [vars(p) for p in problems[:100]],
            "contract_version": self.contract.version,
        }
        moved = self.custody.quarantine(
            self.contract.name, self.partition, source_key, etag, report
        )
        yield Validated(uri, problems, total, rows)
        raise UploadRefused(
            f"{message}. Upload {moved.note}; the partition was not published.",
            quarantined_to=moved.key or "-",
            problem_count=total,
            raw_snapshot=str(raw_read.snapshot_id) if raw_read else "-",
        )

    # -- re-deciding from the lake ----------------------------------------------------------
    def from_raw(self, as_of: str, selected: set[str]) -> Iterator[IngestResult]:
        """Re-validate the raw rows (as of a tag or snapshot): publish or unpublish staged."""
        raw = self._read("raw", as_of)
        frame = pl.from_arrow(raw.data)
        assert isinstance(frame, pl.DataFrame)
        uri = f"{self.table('raw')}@{raw.snapshot_id} partition {self.partition}"
        ingestion = Ingestion(
            self.contract,
            Upload(uri, self.partition, "", upload_format(self.partition)),
            spill_dir=self._spool_dir(),
        )
        layers = ingestion.replay(frame)
        verdict = ingestion.verdict
        yield Validated(uri, verdict.problems, verdict.problem_count, verdict.rows)
        if not layers:
            self._unpublish()
            raise ReplayRefused(summarise(uri, verdict.problems, total=verdict.problem_count))
        staged = self._overwrite("staged", layers["staged"])
        yield LayerWritten("staged", staged, [raw], layers["staged"])
        if "transformed" in selected:
            staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
            transformed = self._overwrite("transformed", layers["transformed"])
            yield LayerWritten("transformed", transformed, [staged_read], layers["transformed"])

    def features_only(self, as_of: str) -> Iterator[IngestResult]:
        """Re-derive transformed from staged (as of a tag or snapshot)."""
        staged = self._read("staged", as_of)
        frame = pl.from_arrow(staged.data)
        assert isinstance(frame, pl.DataFrame)
        features = build_features(frame, self.contract)
        write = self._overwrite("transformed", features)
        yield LayerWritten("transformed", write, [staged], features)

    # -- helpers ------------------------------------------------------------------------------
    def _unpublish(self) -> None:
        """Remove this upload's rows from staged and transformed (a refused upload)."""
        for layer in ("staged", "transformed"):
            self.lake.delete_partition(self.table(layer), column=SOURCE_KEY, value=self.partition)

    def _writers(self, layers: list[str]) -> dict[str, PartitionWriter]:
        """One writer per layer; their tables are loaded (or created) in parallel."""

        def writer(layer: str) -> PartitionWriter:
            return self.lake.partition_writer(
                self.table(layer),
                _arrow(self.frames[layer]).schema,
                column=SOURCE_KEY,
                value=self.partition,
                table_properties=contract_properties(self.contract),
            )

        with ThreadPoolExecutor(len(layers), thread_name_prefix="open-table") as pool:
            return dict(zip(layers, pool.map(writer, layers), strict=True))

    def _overwrite(self, layer: str, frame: pl.DataFrame) -> WriteResult:
        writer = self._writers([layer])[layer]
        writer.add(frame)
        return writer.commit(contract_properties(self.contract))

    def _read(self, layer: str, as_of: str) -> ReadResult:
        table = self.table(layer)
        return self.lake.read_partition(
            table,
            column=SOURCE_KEY,
            value=self.partition,
            snapshot_id=self.lake.resolve_snapshot(table, as_of),
        )

    def _spool_dir(self) -> Path:
        self.settings.spool_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.spool_dir

    def _fetch(
        self, key: str, streamed: bool, size: int, workdir: Path
    ) -> tuple[bytes | Path, Callable[[], None] | None]:
        """Small uploads into memory (with their checksum check, to run); large ones to a
        local file (checked as they download), streamed from there."""
        if not streamed:
            fetched = self.client.fetch(key)
            return fetched.data, fetched.verify
        path = workdir / "upload"
        self.log(f"spooling {size / 1e6:,.0f} MB to {path} to stream it in batches")
        self.client.get_file(key, path)
        return path, None

    def _progress(self, rows: int, started: float) -> None:
        self.log(f"{self.partition}: {rows:,} rows read ({time.monotonic() - started:.0f}s)")


def _arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())
