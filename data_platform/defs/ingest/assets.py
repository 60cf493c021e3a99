"""`raw/`, `staged/` and `transformed/<dataset>`: one upload, one straight step.

The three layers of a dataset are one multi-asset, so an upload is read once, parsed once
with the contract's types, validated once, and its three tables are written from the same
frames, batch by batch (large uploads stream; memory follows the batch). After the last
batch comes the one decision: publish (staged and transformed committed, the upload moved
to the archive) or quarantine (the upload moved to quarantine with its problems; staged and
transformed of that upload removed; the run fails, not retried). Raw is committed either
way: it holds everything readable, typed, with unparsed text in `_rescued_data`.

A subset re-decides from what is already in the lake, e.g. staged and transformed `as_of` a
tag re-validate the tagged raw rows (raw is replayable); transformed alone re-derives the
features from staged.
"""

import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa

from data_platform.contracts import Contract
from data_platform.defs.config import LayerConfig
from data_platform.defs.constants import OWNERS
from data_platform.defs.ingest.checks import schema_valid_result, schema_valid_spec
from data_platform.defs.ingest.partitions import uploads_partitions
from data_platform.defs.metadata import write_metadata
from data_platform.defs.resources import LakehouseResource, ObjectStoreResource
from data_platform.ingest import (
    SOURCE_KEY,
    Ingestion,
    Upload,
    layer_frames,
    upload_format,
)
from data_platform.ingest.features import build_features
from data_platform.ingest.landing import Custody
from data_platform.ingest.problems import Problem, UploadError, summarise
from data_platform.lakehouse import Lakehouse, PartitionWriter, ReadResult, WriteResult
from data_platform.settings import Settings
from data_platform.storage import NotFound, ObjectStore

LAYERS = ("raw", "staged", "transformed")
IN_MEMORY_BATCH_ROWS = 1_000_000
RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
DESCRIPTIONS = {
    "raw": "every readable upload, typed; text that did not parse is kept in _rescued_data",
    "staged": "validated against the contract (blocking schema_valid check), cleaned",
    "transformed": "training-ready features derived from the contract's types",
}
KINDS = {
    "raw": {"iceberg", "polars", "s3"},
    "staged": {"iceberg", "polars", "pandera"},
    "transformed": {"iceberg", "polars"},
}


def layer_key(layer: str, contract: Contract) -> dg.AssetKey:
    return contract.asset_key(layer)


def contract_properties(contract: Contract) -> dict[str, str]:
    """Table properties recording which contract version a table was written under."""
    return {
        "data-platform.contract.version": str(contract.version),
        "data-platform.contract.fingerprint": contract.fingerprint,
    }


def build_ingest_assets(contract: Contract) -> dg.AssetsDefinition:
    """The raw, staged and transformed assets of one dataset, as one multi-asset."""
    keys = {layer: layer_key(layer, contract) for layer in LAYERS}
    partitions = uploads_partitions(contract.name)
    specs = [
        dg.AssetSpec(
            keys[layer],
            deps=[keys[LAYERS[i - 1]]] if i else [],
            group_name=layer,
            kinds=KINDS[layer],
            owners=OWNERS,
            description=f"{contract.name}: {DESCRIPTIONS[layer]}.",
            metadata={
                "dataset": contract.name,
                "iceberg_table": contract.table(layer),
                "contract_version": contract.version,
            },
            partitions_def=partitions,
            skippable=True,
        )
        for i, layer in enumerate(LAYERS)
    ]

    @dg.multi_asset(
        name=f"ingest__{contract.name}",  # the op; the job is ingest_<name>
        specs=specs,
        check_specs=[schema_valid_spec(keys["staged"], contract, partitions)],
        partitions_def=partitions,
        can_subset=True,
        retry_policy=RETRY,
        description=f"Ingest one upload of {contract.name}: read once, parse once, "
        "validate once, then publish or quarantine.",
    )
    def ingest(
        context: dg.AssetExecutionContext,
        config: LayerConfig,
        store: ObjectStoreResource,
        lakehouse: LakehouseResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        selected = {layer for layer in LAYERS if keys[layer] in context.selected_asset_keys}
        run = IngestRun(
            contract=contract,
            keys=keys,
            partition=context.partition_key,
            settings=store.platform.get_settings(),
            client=store.get_client(),
            lake=lakehouse.get_lakehouse(),
            log=context.log,
        )
        if "raw" in selected:
            yield from run.from_upload(selected)
        elif "staged" in selected:
            yield from run.from_raw(config.as_of, selected)
        else:
            yield from run.features_only(config.as_of)

    return ingest


@dataclass
class IngestRun:
    """One partition's ingestion: the reads, writes and the decision, for the asset above."""

    contract: Contract
    keys: dict[str, dg.AssetKey]
    partition: str
    settings: Settings
    client: ObjectStore
    lake: Lakehouse
    log: dg.DagsterLogManager
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.custody = Custody(self.client, self.settings)
        self.frames = layer_frames(self.contract)

    def table(self, layer: str) -> str:
        return self.contract.table(layer)

    # -- the upload itself --------------------------------------------------------------------
    def from_upload(
        self, selected: set[str]
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Read the upload (landing, else the archive), write raw, decide, publish."""
        try:
            source_key = self.custody.source_of(self.contract.name, self.partition)
        except NotFound as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
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
            opening = helpers.submit(
                self._writers, ["raw", "staged", "transformed"] if decide else ["raw"]
            )
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
            # the tables commit in parallel, and each result is recorded (Dagster's events)
            # while the later commits still run; the upload leaves landing only once
            # staged and transformed are both committed
            commits = {layer: pool.submit(w.commit, properties) for layer, w in writers.items()}
            raw = commits["raw"].result()
            yield dg.MaterializeResult(
                asset_key=self.keys["raw"],
                metadata={
                    **write_metadata(raw, frame=previews.get("raw")),
                    "source_object": uri,
                    "source_etag": info.etag,
                    "source_bytes": dg.MetadataValue.int(info.size),
                    "source_columns": dg.MetadataValue.json(verdict.columns),
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
            yield schema_valid_result(self.keys["staged"], uri, [], 0, verdict.rows)
            staged = commits["staged"].result()
            yield dg.MaterializeResult(
                asset_key=self.keys["staged"],
                metadata=write_metadata(staged, [raw_read], previews.get("staged")),
            )
            transformed = commits["transformed"].result()
        archived = (
            self.custody.archive_upload(self.contract.name, self.partition, info.etag)
            if in_landing
            else None
        )
        staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
        yield dg.MaterializeResult(
            asset_key=self.keys["transformed"],
            metadata={
                **write_metadata(transformed, [staged_read], previews.get("transformed")),
                "upload_archived_to": f"s3://{self.client.bucket}/{archived}" if archived else "-",
            },
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
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
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
        yield schema_valid_result(self.keys["staged"], uri, problems, total, rows)
        raise dg.Failure(
            description=f"{message}. Upload {moved.note}; the partition was not published.",
            metadata={
                "quarantined_to": moved.key or "-",
                "problem_count": dg.MetadataValue.int(total),
                "raw_snapshot": str(raw_read.snapshot_id) if raw_read else "-",
            },
            allow_retries=False,
        )

    # -- re-deciding from the lake ----------------------------------------------------------
    def from_raw(
        self, as_of: str, selected: set[str]
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
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
        yield schema_valid_result(
            self.keys["staged"], uri, verdict.problems, verdict.problem_count, verdict.rows
        )
        if not layers:
            self._unpublish()
            raise dg.Failure(
                description=summarise(uri, verdict.problems, total=verdict.problem_count),
                allow_retries=False,
            )
        staged = self._overwrite("staged", layers["staged"])
        yield dg.MaterializeResult(
            asset_key=self.keys["staged"],
            metadata=write_metadata(staged, [raw], layers["staged"]),
        )
        if "transformed" in selected:
            staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
            transformed = self._overwrite("transformed", layers["transformed"])
            yield dg.MaterializeResult(
                asset_key=self.keys["transformed"],
                metadata=write_metadata(transformed, [staged_read], layers["transformed"]),
            )

    def features_only(self, as_of: str) -> Iterator[dg.MaterializeResult]:
        """Re-derive transformed from staged (as of a tag or snapshot)."""
        staged = self._read("staged", as_of)
        frame = pl.from_arrow(staged.data)
        assert isinstance(frame, pl.DataFrame)
        features = build_features(frame, self.contract)
        write = self._overwrite("transformed", features)
        yield dg.MaterializeResult(
            asset_key=self.keys["transformed"], metadata=write_metadata(write, [staged], features)
        )

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
        self.log.info(f"spooling {size / 1e6:,.0f} MB to {path} to stream it in batches")
        self.client.get_file(key, path)
        return path, None

    def _progress(self, rows: int, started: float) -> None:
        self.log.info(f"{self.partition}: {rows:,} rows read ({time.monotonic() - started:.0f}s)")


def _arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())
