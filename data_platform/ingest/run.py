"""A batch of uploads' ingestion: custody, fetch, the three writers, the decisions, the commits.

A run ingests one upload or a batch of them (the landing sensor asks for batches; a
backfill of many uploads is one run). Each upload is read, parsed and validated on its
own and decided on its own (publish or quarantine), but the batch commits once per table:
one snapshot of raw, staged and transformed for the whole batch, so the fixed cost of a
run and of a commit is paid per batch, not per upload.

The run is a generator of plain results, so the platform's heart needs no Dagster: the
multi-asset in defs/ingest maps each `LayerWritten` to a materialization of the upload's
partition and each `Validated` to its `schema_valid` check, and an `IngestFailed` to a
failure that is not retried. Results come as soon as they are true: each table's as soon
as its commit is done (later commits still run), the verdicts before staged's, and an
upload leaves landing only once staged and transformed are both committed. Refused
uploads are unpublished and quarantined, their verdicts yielded; then, after every other
upload was published, `UploadRefused` is raised.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow as pa
from pyiceberg.expressions import (
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    LessThanOrEqual,
    NotIn,
)
from pyiceberg.table import Table

from data_platform.contracts import Contract
from data_platform.contracts.columns import INGESTED_AT, SOURCE_KEY, SOURCE_ROW, VALID_FROM
from data_platform.ingest.features import build_features
from data_platform.ingest.formats import upload_format
from data_platform.ingest.keys import key_frame, repeated_keys, replayed, superseded, without
from data_platform.ingest.landing import Custody
from data_platform.ingest.monitor import Candidate, Judged, batch_reference, judge_batch
from data_platform.ingest.pipeline import DELETES, Ingestion, Upload, layer_frames, versions
from data_platform.ingest.problems import Problem, UploadError, summarise
from data_platform.ingest.results import (
    ContractMismatch,
    IngestResult,
    LayerWritten,
    Profiled,
    ReplayRefused,
    UploadMissing,
    UploadRefused,
    Validated,
)
from data_platform.lakehouse import Lakehouse, PartitionWriter, ReadResult, WriteResult
from data_platform.lakehouse.deletes import KeyRows, key_rows, live_rows
from data_platform.lakehouse.tables import partitions_predicate
from data_platform.privacy.deidentify import mask_values
from data_platform.privacy.secret import pii_key
from data_platform.profiles.profile import ROW_SCHEMA, Profile
from data_platform.profiles.reference import Reference
from data_platform.settings import Settings
from data_platform.storage import NotFound, ObjectInfo, ObjectStore

LAYERS = ("raw", "staged", "transformed")
MODE_PROPERTY = "data-platform.contract.mode"


class _KeyScope(NamedTuple):
    """What a batch's key check reads: the files that may hold its keys, and the keys."""

    files: BooleanExpression
    keys: pl.DataFrame | None


class KeysMoved(RuntimeError):
    """An upsert batch's staged commit found the table changed since its keys were read: a
    passing failure (the step's retry decides the batch again on the new state)."""


IN_MEMORY_BATCH_ROWS = 1_000_000
MOVE_THREADS = 8  # archive and quarantine moves of a batch, in parallel (metadata calls)
PROGRESS_EVERY_S = 10.0


def contract_properties(contract: Contract) -> dict[str, str]:
    """Table properties recording which contract version a table was written under."""
    return {
        "data-platform.contract.version": str(contract.version),
        "data-platform.contract.fingerprint": contract.fingerprint,
        MODE_PROPERTY: contract.mode,
    }


@dataclass
class _Read:
    """One upload of the batch, read and decided: where it was, what it amounted to."""

    partition: str
    source_key: str
    info: ObjectInfo
    uri: str
    problems: list[Problem]
    problem_count: int
    rows: int
    columns: list[str]
    previews: dict[str, pl.DataFrame]
    # the contract's key: each staged row's key values and file row (append and upsert)
    keys: pl.DataFrame | None = None
    ingested_at: datetime | None = None
    # upsert in a batch of several: staged and transformed rows held until the batch knows
    # which of them a later upload replaces
    held: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    # upsert's delete rows: the keys (and file rows) the upload deletes
    deletes: pl.DataFrame | None = None
    environment: str = ""  # training, or the declared environment whose folder it is in
    profile: Profile | None = None  # of its staged rows, built as they were read
    # or, for a drift that blocks nothing, built while the tables commit: its staged rows
    unprofiled: list[pl.DataFrame] = field(default_factory=list)
    judged: Judged | None = None  # its drift against the reference

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def refuse(self, problems: list[Problem], total: int) -> None:
        self.problems, self.problem_count = problems, total


@dataclass
class IngestRun:
    """The ingestion of a batch of partitions (uploads): the reads, writes and decisions."""

    contract: Contract
    partitions: list[str]
    settings: Settings
    client: ObjectStore
    lake: Lakehouse
    log: Callable[[str], None]
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    custody: Custody = field(init=False)
    # a refused upload's partition -> (its quarantine key, the message why)
    _moved: dict[str, tuple[str, str]] = field(default_factory=dict, init=False)
    # the staged snapshot whose keys an upsert batch was decided against
    _keys_snapshot: int | None = field(default=None, init=False)
    # upsert: staged's key columns as read from its files (each row's file and position)
    _staged_keys: KeyRows | None = field(default=None, init=False)
    _later_keys: KeyRows | None = field(default=None, init=False)  # transformed's
    # upsert: earlier uploads' partitions the batch rewrote -> layer -> rows left
    _rewritten: dict[str, dict[str, int]] = field(default_factory=dict, init=False)
    _was_mode: str = field(default="", init=False)  # staged's mode before this run
    _profiling: bool = field(default=False, init=False)
    _judge_first: bool = field(default=False, init=False)
    _reference: Future[Reference] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.custody = Custody(self.client, self.settings)
        self.frames = layer_frames(self.contract)
        self.frames["profiles"] = pl.DataFrame(schema=ROW_SCHEMA)

    def table(self, layer: str) -> str:
        return self.contract.table(layer)

    # -- the uploads themselves ------------------------------------------------------------
    def from_uploads(self, selected: set[str]) -> Iterator[IngestResult]:
        """Read each upload (landing, else the archive), write raw, decide each, publish."""
        decide = "staged" in selected
        # each upload's profile is built from its staged rows and judged for drift (when
        # `profiles` is selected with staged): before the batch commits when a drift can
        # refuse an upload, else while the tables commit
        self._profiling = decide and "profiles" in selected and self.settings.ingest_profiles
        self._judge_first = self._profiling and self.contract.drift.can_refuse
        started = time.monotonic()
        reads: list[_Read] = []
        missing: list[str] = []
        # the tables are opened while the first upload downloads
        opener = ThreadPoolExecutor(2, thread_name_prefix="open-tables")
        opening = opener.submit(self._open, self._layers(decide))
        # and what the uploads' drift is judged against is read meanwhile
        self._reference = (
            opener.submit(batch_reference, self.contract, self.lake, self.partitions, self.log)
            if self._profiling
            else None
        )
        opener.shutdown(wait=False)
        try:
            reported = started
            for done, partition in enumerate(self.partitions, 1):
                read = self._read_upload(partition, opening.result, decide)
                if read is None:
                    missing.append(partition)
                else:
                    reads.append(read)
                if len(self.partitions) > 1 and time.monotonic() - reported > PROGRESS_EVERY_S:
                    reported = time.monotonic()
                    self.log(
                        f"{done:,}/{len(self.partitions):,} uploads read "
                        f"({reported - started:.0f}s; {sum(not r.ok for r in reads)} refused)"
                    )
            writers = opening.result()
            if self._judge_first:
                self._judge([r for r in reads if r.ok], writers)
            if decide and self.contract.key:
                self._apply_key([r for r in reads if r.ok], writers)
        except BaseException:
            if opening.exception() is None:  # (waits for it) the writers opened: undo them
                for writer in opening.result().values():
                    writer.abort()
            raise
        refused = [r for r in reads if decide and not r.ok]
        published = [r for r in reads if decide and r.ok]
        properties = contract_properties(self.contract)
        if len(reads) == 1:
            properties["data-platform.source-etag"] = reads[0].info.etag
        with ThreadPoolExecutor(len(writers), thread_name_prefix="commit") as pool:
            # the tables commit in parallel, and each result is handed on (the asset's
            # events) while the later commits still run; uploads leave landing only once
            # staged and transformed are both committed
            commits = {
                layer: pool.submit(w.commit, properties)
                for layer, w in writers.items()
                if layer != "profiles" or self._judge_first
            }
            if self._profiling and not self._judge_first:  # nothing it finds refuses
                self._judge([r for r in reads if r.ok], writers)
                commits["profiles"] = pool.submit(writers["profiles"].commit, properties)
            raw = commits["raw"].result()
            for read in reads:
                yield LayerWritten(
                    read.partition,
                    "raw",
                    replace(raw, rows_written=writers["raw"].rows_of(read.partition)),
                    [],
                    read.previews.get("raw"),
                    {
                        "source_object": read.uri,
                        "source_etag": read.info.etag,
                        "source_bytes": read.info.size,
                        "source_columns": read.columns,
                        "contract_version": self.contract.version,
                    },
                )
            if not decide:
                self._missing(missing)
                return
            raw_read = ReadResult(self.table("raw"), pa.table({}), raw.snapshot_id)
            # refused uploads: staged and transformed hold none of their rows (the commits
            # emptied their partitions), so they go to quarantine now
            yield from self._quarantine(refused)
            for read in published:
                yield Validated(read.partition, read.uri, [], 0, read.rows)
            staged = commits["staged"].result()
            for read in published:
                yield LayerWritten(
                    read.partition,
                    "staged",
                    replace(staged, rows_written=writers["staged"].rows_of(read.partition)),
                    [raw_read],
                    read.previews.get("staged"),
                )
            yield from self._rewrites("staged", staged)
            yield from self._profiled(reads, commits.get("profiles"), writers)
            transformed = commits["transformed"].result()
            if "history" in commits:
                commits["history"].result()
        yield from self._rewrites("transformed", transformed)
        archived = self._archive(published)
        staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
        for read in published:
            moved = archived.get(read.partition)
            yield LayerWritten(
                read.partition,
                "transformed",
                replace(transformed, rows_written=writers["transformed"].rows_of(read.partition)),
                [staged_read],
                read.previews.get("transformed"),
                {"upload_archived_to": f"s3://{self.client.bucket}/{moved}" if moved else "-"},
            )
        if len(self.partitions) > 1:
            self.log(
                f"{len(published):,} uploads published, {len(refused):,} refused, "
                f"{len(missing):,} missing, in {time.monotonic() - started:.1f}s"
            )
        self._missing(missing)
        if refused:
            raise self._refused(refused, raw_read)

    def _read_upload(
        self,
        partition: str,
        opened: Callable[[], dict[str, PartitionWriter]],
        decide: bool,
    ) -> _Read | None:
        """Read, parse and validate one upload into the batch's writers; None if missing."""
        try:
            source_key = self.custody.source_of(self.contract.name, partition)
            info = self.client.stat(source_key)
        except NotFound:
            return None
        uri = f"s3://{self.client.bucket}/{source_key}"
        try:
            fmt = upload_format(partition)
        except UploadError as exc:
            return _Read(partition, source_key, info, uri, [exc.problem], 1, 0, [], {})
        streamed = info.size > self.settings.ingest_spool_mb * 1024 * 1024
        environment = self.contract.environment_of(partition)
        ingestion = Ingestion(
            # an environment's uploads may lack the columns it names (e.g. the label)
            self.contract.in_environment(environment),
            Upload(uri, partition, info.etag, fmt),
            # an upload in memory is read in big batches (fewer, larger files: cheaper);
            # a streamed one in small batches, so memory stays flat whatever its size
            batch_rows=self.settings.ingest_batch_rows if streamed else IN_MEMORY_BATCH_ROWS,
            spill_dir=self._spool_dir(),
            pii_key=self._pii_key(),
        )
        started = time.monotonic()
        previews: dict[str, pl.DataFrame] = {}
        keyed = decide and bool(self.contract.key)
        # upsert, several uploads: the batch decides which rows a later upload replaces
        hold = keyed and self.contract.mode == "upsert" and len(self.partitions) > 1
        held: dict[str, list[pl.DataFrame]] = {}
        keys: list[pl.DataFrame] = []
        deleted: list[pl.DataFrame] = []
        profile = Profile.empty(self.contract) if self._profiling else None
        # an upload in memory is profiled later, while the tables commit (unless a drift can
        # refuse it); a streamed one batch by batch, so memory stays flat
        later: list[pl.DataFrame] = []
        defer = not self._judge_first and not streamed
        # an upload read into memory is hashed against its recorded checksum while it is
        # parsed (a mismatch fails the run before anything is committed)
        helpers = ThreadPoolExecutor(1, thread_name_prefix="ingest-helper")
        try:
            source, checked = self._fetch(source_key, streamed, info.size, ingestion.workdir)
            writers = opened()
            verified = helpers.submit(checked) if checked else None
            for rows in ingestion.rows(source):
                if rows.layer == DELETES:
                    deleted.append(rows.frame)
                    continue
                if rows.layer not in writers:
                    continue  # a raw-only run: nothing is decided
                if keyed and rows.layer == "staged":
                    keys.append(key_frame(rows.frame, self.contract.key))
                if profile is not None and rows.layer == "staged":
                    if defer:
                        later.append(rows.frame)
                    else:
                        profile.update(rows.frame)
                if hold and rows.layer != "raw":
                    held.setdefault(rows.layer, []).append(rows.frame)
                else:
                    _add(writers, rows.layer, rows.frame, ingestion.ingested_at)
                # a person reads previews: raw's show personal columns as [REDACTED]
                previews.setdefault(
                    rows.layer,
                    mask_values(rows.frame.head(5), self.contract)
                    if rows.layer == "raw"
                    else rows.frame.head(5),
                )
                if rows.layer == "raw" and streamed:
                    self._progress(partition, ingestion.verdict.rows, started)
            if verified:
                verified.result()
        finally:
            helpers.shutdown(wait=True)
            shutil.rmtree(ingestion.workdir, ignore_errors=True)
        verdict = ingestion.verdict
        if decide and not verdict.ok:
            # its staged and transformed rows are dropped: the commits empty its partitions
            self._discard(partition, writers)
            held = {}
        return _Read(
            partition,
            source_key,
            info,
            uri,
            verdict.problems,
            verdict.problem_count,
            verdict.rows,
            verdict.columns,
            previews,
            keys=pl.concat(keys) if keys else None,
            ingested_at=ingestion.ingested_at,
            held=held,
            deletes=pl.concat(deleted) if deleted and verdict.ok else None,
            environment=environment,
            profile=profile if verdict.ok else None,
            unprofiled=later if verdict.ok else [],
        )

    # -- the contract's key across uploads -------------------------------------------------
    def _apply_key(self, reads: list[_Read], writers: dict[str, PartitionWriter]) -> None:
        """append: refuse uploads repeating a published key (unless `duplicates: allow`);
        upsert: later rows replace earlier ones, in the batch and in the table."""
        key = self.contract.key
        self._check_mode_change()
        uploads = [(r.partition, r.keys) for r in reads if r.keys is not None]
        if self.contract.mode == "append":
            if self.contract.duplicates == "allow":
                return
            found = repeated_keys(uploads, self._published_keys(self._key_scope(uploads)), key)
            for read in reads:
                if read.partition in found:
                    problems, total = found[read.partition]
                    read.refuse(problems, total)
                    self._discard(read.partition, writers)
            return
        # a delete row replaces its key with nothing: it counts as the upload's key
        changes = [(r.partition, k) for r in reads if (k := _changed_keys(r)) is not None]
        scope = self._key_scope(changes)
        with ThreadPoolExecutor(1, thread_name_prefix="transformed-keys") as pool:
            beside = (
                pool.submit(self._transformed_keys, scope) if "transformed" in writers else None
            )
            published = self._published_keys(scope)
            self._later_keys = beside.result() if beside is not None else None
        replaced = superseded(changes, published, key)
        read_at = self._keys_snapshot

        def unchanged(table: Table) -> None:
            current = table.refresh().current_snapshot()  # the first attempt's table is old
            if (current.snapshot_id if current else None) != read_at:
                raise KeysMoved(
                    f"{self.table('staged')} changed while this batch was decided (another "
                    "upsert committed): the batch is decided again"
                )

        writers["staged"].guard = unchanged
        for read in reads:  # the batch's own uploads: later ones win
            lost = replaced.within.get(read.partition)
            for layer, frames in read.held.items():
                for frame in frames:
                    _add(writers, layer, frame, read.ingested_at, kept=without(frame, lost, key))
            read.held = {}
            if read.deletes is not None and "history" in writers:
                tombstones = read.deletes.with_columns(pl.lit(read.partition).alias(SOURCE_KEY))
                writers["history"].add(versions(tombstones, read.ingested_at, deleted=True))
        if replaced.outside:  # the table's: the batch wins, in both tables at once
            layers = ("staged", "transformed")
            with ThreadPoolExecutor(len(layers), thread_name_prefix="replace") as pool:
                done = {
                    layer: pool.submit(
                        lambda layer: list(self._replace_rows(layer, replaced.outside, writers)),
                        layer,
                    )
                    for layer in layers
                }
            for layer, rows in done.items():
                for partition, kept in rows.result():
                    self._rewritten.setdefault(partition, {})[layer] = kept
        if replaced.outside:
            self.log(
                f"upsert: {sum(f.height for f in replaced.outside.values()):,} current row(s) of "
                f"{len(replaced.outside):,} earlier upload(s) replaced"
            )

    def _replace_rows(
        self, layer: str, lost: dict[str, pl.DataFrame], writers: dict[str, PartitionWriter]
    ) -> Iterator[tuple[str, int]]:
        """Remove the rows with the `lost` keys (per earlier upload) from those uploads'
        partitions of `layer`, in its writer's commit; each partition's rows after.

        A partition of at least `upsert_rewrite_below_rows` rows gets position-delete files
        (merge-on-read: only its key columns are read, nothing is rewritten); smaller ones
        (and any whose files predate a key column's rename) are rewritten without them.
        """
        key = list(self.contract.key)
        writer = writers[layer]
        table = writer.target.refresh()
        counts = live_rows(table, partitions_predicate(SOURCE_KEY, list(lost)), SOURCE_KEY)
        least = self.settings.upsert_rewrite_below_rows
        large = sorted(p for p in lost if counts.get(p, 0) >= least)
        found = None
        if large:
            found = self._staged_keys if layer == "staged" else self._later_keys
        if found is not None:
            rows = found.rows.with_columns(pl.col(SOURCE_KEY).cast(pl.String))
            removed: dict[str, int] = {}
            for partition in large:
                mine = replace(found, rows=rows.filter(pl.col(SOURCE_KEY) == partition))
                hits = mine.positions(lost[partition], key)
                writer.delete_rows(hits, mine.earlier(hits))
                removed[partition] = sum(hit.rows for hit in hits)
            for partition in large:
                yield partition, counts[partition] - removed[partition]
        small = [p for p in lost if found is None or p not in large]
        if not small:
            return
        some = partitions_predicate(SOURCE_KEY, small)
        current = pl.from_arrow(self.lake.read(self.table(layer), row_filter=some).data)
        assert isinstance(current, pl.DataFrame)
        writer.include(small)
        for (partition,), rows in current.group_by(SOURCE_KEY):
            kept = without(rows, lost[str(partition)], self.contract.key)
            writer.add(kept)
            yield str(partition), kept.height

    def _open(self, layers: list[str]) -> dict[str, PartitionWriter]:
        """The writers, and the mode staged was last written under (its current snapshot's
        summary says; a table written before modes existed was appended to)."""
        for layer in layers:  # `renamed_from`: renamed in place before anything is written
            renamed = self.lake.rename_columns(self.table(layer), self.contract.renames)
            if renamed:
                self.log(f"{self.table(layer)}: renamed {renamed} (the contract's renamed_from)")
        writers = self._writers(layers)
        # opening a writer sets table properties, never a snapshot: the current snapshot is
        # still the last commit's, and its summary the mode it was written under
        staged = writers["staged"].target if "staged" in writers else None
        current = staged.current_snapshot() if staged else None
        summary = current.summary if current else None
        self._was_mode = (
            summary.additional_properties.get(MODE_PROPERTY) if summary else None
        ) or ("append" if current else "")
        return writers

    # -- profiles and drift -----------------------------------------------------------------
    def _judge(self, reads: list[_Read], writers: dict[str, PartitionWriter]) -> None:
        """Each valid upload's drift against the reference; those the contract's drift
        settings block are refused (quarantined with the findings), the others' profiles
        go to `profiles.<name>`."""
        for read in reads:
            if read.profile is not None:
                for frame in read.unprofiled:
                    read.profile.update(frame)
            read.unprofiled = []
        candidates = [
            Candidate(r.partition, r.environment, r.profile) for r in reads if r.profile is not None
        ]
        assert self._reference is not None
        judged = judge_batch(self.contract, self._reference.result(), candidates)
        for read in reads:
            read.judged = judged.get(read.partition)
            if read.judged is None or read.profile is None:
                continue
            if read.judged.refused:
                problems = read.judged.problems()
                read.refuse(problems, len(problems))
                self._discard(read.partition, writers)
                continue
            ingested_at = read.ingested_at or datetime.now(UTC)
            writers["profiles"].add(
                read.profile.rows_for(read.partition, read.environment, ingested_at)
            )

    def _profiled(
        self,
        reads: list[_Read],
        commit: Future[WriteResult] | None,
        writers: dict[str, PartitionWriter],
    ) -> Iterator[Profiled]:
        """Each judged upload's profile (committed) and drift verdict."""
        if commit is None:
            return
        write = commit.result()
        for read in reads:
            judged = read.judged
            if judged is None or read.profile is None:
                continue
            rows = writers["profiles"].rows_of(read.partition)
            yield Profiled(
                read.partition,
                None if judged.refused else replace(write, rows_written=rows),
                read.profile,
                judged.report,
                judged.plot,
                judged.refused,
            )

    def _check_mode_change(self) -> None:
        """A contract whose mode changed: upsert over a staged table that holds a key more
        than once (an append that allowed duplicates) would have to pick one row per key and
        drop the others: refused, with the keys named. upsert to append loses nothing."""
        was = self._was_mode
        if not was or was == self.contract.mode or self.contract.mode != "upsert":
            return
        key = list(self.contract.key)
        frame = self._keys_of("staged", tuple(key))
        repeated = frame.group_by(key).len().filter(pl.col("len") > 1)
        if repeated.height:
            shown = ", ".join(str(r) for r in repeated.head(3).select(key).rows())
            raise ContractMismatch(
                f"{self.contract.name}: the contract changed mode {was} to upsert, but "
                f"{self.table('staged')} holds {repeated.height:,} key(s) more than once (e.g. "
                f"{shown}): an upsert would keep one row of each and drop the others. Remove "
                "the duplicates, or keep mode append; the upload stays in landing"
            )

    def _rewrites(self, layer: str, write: WriteResult) -> Iterator[LayerWritten]:
        """upsert: a materialization of each earlier upload's partition the batch rewrote
        (its replaced rows gone), so what follows it (vectors, the labeling queue) follows."""
        for partition, rows in self._rewritten.items():
            if layer in rows:
                yield LayerWritten(
                    partition,
                    layer,
                    replace(write, rows_written=rows[layer]),
                    [],
                    None,
                    {"rows_replaced_by": ", ".join(self.partitions[:5])},
                )

    def _published_keys(self, scope: _KeyScope) -> pl.DataFrame:
        """The staged table's rows that hold one of the batch's keys: key columns and
        upload (and row, for an append), less the batch's own uploads; with each row's file
        and position when read from the files.

        Only data files whose statistics say they may hold a key in the batch's range (of
        its first key column) are read: keys that grow with time (ids, dates, timestamps)
        read nothing of the table's past, whatever its size.
        """
        key = self.contract.key
        # an append's refusals name the row that holds a key; an upsert needs the upload
        row = (SOURCE_ROW,) if self.contract.mode == "append" else ()
        columns = (*key, SOURCE_KEY, *row)
        table = self.lake.load(self.table("staged"))
        current = table.current_snapshot() if table is not None else None
        self._keys_snapshot = current.snapshot_id if current else None
        self._staged_keys = None
        if table is None or current is None:  # nothing published yet
            return self._no_keys(columns)
        found = key_rows(table, scope.files, list(columns), among=scope.keys)
        if found is not None:  # the files' own columns, each row's file and position
            ours = pl.col(SOURCE_KEY).cast(pl.String).is_in(self.partitions)
            self._staged_keys = replace(found, rows=found.rows.filter(~ours))
            return self._staged_keys.rows
        # a file written before a key column's rename: through pyiceberg, by field id
        return self._keys_of("staged", columns, scope.files)

    def _key_scope(
        self, uploads: list[tuple[str, pl.DataFrame]], partitions: list[str] | None = None
    ) -> _KeyScope:
        """The batch's keys, and the files that may hold them: not the batch's
        own partitions (or `partitions`: they are replaced, not compared with; one partition
        per upload), and, by the files' statistics, within the range of the batch's first
        key column."""
        key = self.contract.key
        # not made unique: the keys only filter files by range and rows by a semi-join
        frames = [k.select(key) for _, k in uploads]
        keys = pl.concat(frames, how="vertical_relaxed", rechunk=False) if frames else None
        own = set(self.partitions if partitions is None else partitions)
        files: BooleanExpression = NotIn(SOURCE_KEY, own)  # type: ignore[call-arg, arg-type]
        if keys is not None and keys.height and keys[key[0]].null_count() < keys.height:
            low, high = keys[key[0]].min(), keys[key[0]].max()
            files = And(
                files,
                GreaterThanOrEqual(key[0], _literal(low)),  # type: ignore[call-arg, arg-type]
                LessThanOrEqual(key[0], _literal(high)),  # type: ignore[call-arg, arg-type]
            )
        return _KeyScope(files, keys)

    def _transformed_keys(self, scope: _KeyScope) -> KeyRows | None:
        """upsert: transformed's key columns and upload, each row's file and position, of
        the files that may hold the batch's keys (read beside staged's)."""
        table = self.lake.load(self.table("transformed"))
        if table is None or table.current_snapshot() is None:
            return None
        columns = [*self.contract.key, SOURCE_KEY]
        return key_rows(table, scope.files, columns, among=scope.keys)

    def _discard(self, partition: str, writers: dict[str, PartitionWriter]) -> None:
        for layer in ("staged", "transformed", "history", "profiles"):
            if layer in writers:
                writers[layer].discard(partition)

    def _layers(self, decide: bool) -> list[str]:
        if not decide:
            return ["raw"]
        layers = [*LAYERS, "history"] if self.contract.mode == "upsert" else list(LAYERS)
        return [*layers, "profiles"] if self._profiling else layers

    def _quarantine(self, refused: list[_Read]) -> Iterator[Validated]:
        """Move each refused upload to quarantine with its report; its verdict."""

        def move(read: _Read) -> tuple[str, str]:
            message = summarise(read.uri, read.problems, total=read.problem_count)
            report = {
                "error": message,
                "problem_count": read.problem_count,
                "problems": [vars(p) for p in read.problems[:100]],
                "contract_version": self.contract.version,
            }
            moved = self.custody.quarantine(
                self.contract.name, read.partition, read.source_key, read.info.etag, report
            )
            return (
                moved.key or "-",
                f"{message}. Upload {moved.note}; the partition was not published.",
            )

        with ThreadPoolExecutor(MOVE_THREADS, thread_name_prefix="quarantine") as pool:
            moves = list(pool.map(move, refused))
        self._moved.update(zip((r.partition for r in refused), moves, strict=True))
        for read, (key, error) in zip(refused, moves, strict=True):
            yield Validated(
                read.partition,
                read.uri,
                read.problems,
                read.problem_count,
                read.rows,
                quarantined_to=key,
                error=error,
            )

    def _refused(self, refused: list[_Read], raw_read: ReadResult) -> UploadRefused:
        """The run's failure once every other upload is published: one line per refused one."""
        moved = self._moved
        first = refused[0]
        if len(refused) == 1 and len(self.partitions) == 1:
            description = moved[first.partition][1]
        else:
            lines = [f"{len(refused)} of {len(self.partitions)} uploads refused:"]
            lines += [f"- {moved[r.partition][1]}" for r in refused[:20]]
            if len(refused) > 20:
                lines.append(
                    f"- ... and {len(refused) - 20} more (`data-platform quarantine list`)"
                )
            description = "\n".join(lines)
        return UploadRefused(
            description,
            quarantined_to=moved[first.partition][0],
            problem_count=sum(r.problem_count for r in refused),
            raw_snapshot=str(raw_read.snapshot_id),
        )

    def _archive(self, published: list[_Read]) -> dict[str, str | None]:
        """Move each published upload still in landing to the archive (in parallel)."""

        def move(read: _Read) -> str | None:
            if read.source_key != self.custody.landing_key(self.contract.name, read.partition):
                return None  # re-ingested from the archive: it stays there
            return self.custody.archive_upload(self.contract.name, read.partition, read.info.etag)

        with ThreadPoolExecutor(MOVE_THREADS, thread_name_prefix="archive") as pool:
            return dict(
                zip((r.partition for r in published), pool.map(move, published), strict=True)
            )

    def _missing(self, missing: list[str]) -> None:
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            raise UploadMissing(
                f"upload(s) {shown}{more} of {self.contract.name} are neither in landing nor "
                "in the archive (deleted, or quarantined: `data-platform quarantine list`)"
            )

    # -- re-deciding from the lake ----------------------------------------------------------
    def from_raw(self, as_of: str, selected: set[str]) -> Iterator[IngestResult]:
        """Re-validate each partition's raw rows (as of a tag or snapshot): publish or
        unpublish its staged rows. A partition whose rows break the contract fails the run
        once every partition has been decided."""
        refused: list[str] = []
        for partition in self.partitions:
            raw = self._read("raw", as_of, partition)
            frame = pl.from_arrow(raw.data)
            assert isinstance(frame, pl.DataFrame)
            uri = f"{self.table('raw')}@{raw.snapshot_id} partition {partition}"
            ingestion = Ingestion(
                self.contract,
                Upload(uri, partition, "", upload_format(partition)),
                spill_dir=self._spool_dir(),
                pii_key=self._pii_key(),
            )
            layers = ingestion.replay(frame)
            verdict = ingestion.verdict
            message = summarise(uri, verdict.problems, total=verdict.problem_count)
            yield Validated(
                partition,
                uri,
                verdict.problems,
                verdict.problem_count,
                verdict.rows,
                error="" if layers else message,
            )
            if not layers:
                self._unpublish(partition)
                refused.append(message)
                continue
            if self.contract.mode == "upsert" and self.contract.key:
                yield from self._replay_upsert(partition, frame, layers, raw, selected)
                continue
            staged = self._overwrite("staged", layers["staged"], partition)
            yield LayerWritten(partition, "staged", staged, [raw], layers["staged"])
            if "transformed" in selected:
                staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
                transformed = self._overwrite("transformed", layers["transformed"], partition)
                yield LayerWritten(
                    partition, "transformed", transformed, [staged_read], layers["transformed"]
                )
        if refused:
            raise ReplayRefused("\n".join(refused))

    def _replay_upsert(
        self,
        partition: str,
        raw_rows: pl.DataFrame,
        layers: dict[str, pl.DataFrame],
        raw: ReadResult,
        selected: set[str],
    ) -> Iterator[IngestResult]:
        """upsert: a replayed upload publishes its rows of the keys no later upload changed
        (the history says when each version came), and earlier uploads' rows of the keys it
        holds leave staged and transformed in the same snapshots; its history is rewritten
        with it. So a replay never makes a key current twice, nor brings back a deleted one."""
        key = self.contract.key
        at = raw_rows.get_column(INGESTED_AT).max()
        assert isinstance(at, datetime)
        rows, deletes = layers["staged"], layers.get(DELETES)
        changes = pl.concat(
            [f.select(*key) for f in (rows, deletes) if f is not None], how="vertical_relaxed"
        )
        scope = self._key_scope([(partition, changes)], partitions=[partition])
        others = self._keys_of("history", (*key, VALID_FROM), scope.files)
        later, current = replayed(changes, others, at, key)
        holders = self._keys_of("staged", (*key, SOURCE_KEY), scope.files)
        lost = {
            str(holder): found.select(*key)
            for (holder,), found in holders.join(current, on=list(key), how="semi").group_by(
                SOURCE_KEY
            )
        }
        published = ["staged", "transformed"] if "transformed" in selected else ["staged"]
        writers = self._writers([*published, "history"], [partition])
        for layer in published:
            writers[layer].add(without(layers[layer], later, key))
            for holder, kept in self._replace_rows(layer, lost, writers):
                self._rewritten.setdefault(holder, {})[layer] = kept
        writers["history"].add(versions(rows, at))
        if deletes is not None:
            tombstones = deletes.with_columns(pl.lit(partition).alias(SOURCE_KEY))
            writers["history"].add(versions(tombstones, at, deleted=True))
        if later.height:
            self.log(
                f"{partition}: {later.height:,} key(s) changed by a later upload since: their "
                "rows in this upload are not current and stay out of staged"
            )
        properties = contract_properties(self.contract)
        with ThreadPoolExecutor(len(writers), thread_name_prefix="commit") as pool:
            commits = {layer: pool.submit(w.commit, properties) for layer, w in writers.items()}
            staged = commits["staged"].result()
            yield LayerWritten(partition, "staged", staged, [raw], layers["staged"])
            yield from self._rewrites("staged", staged)
            commits["history"].result()
            if "transformed" in commits:
                transformed = commits["transformed"].result()
                staged_read = ReadResult(self.table("staged"), pa.table({}), staged.snapshot_id)
                yield LayerWritten(
                    partition, "transformed", transformed, [staged_read], layers["transformed"]
                )
                yield from self._rewrites("transformed", transformed)
        self._rewritten = {}

    def _keys_of(
        self, layer: str, columns: tuple[str, ...], files: BooleanExpression | None = None
    ) -> pl.DataFrame:
        """`columns` (key and platform columns) of `layer`'s rows in the files `files`
        selects (all without), read through pyiceberg (none if the table does not exist yet)."""
        try:
            read = self.lake.read(self.table(layer), columns=columns, row_filter=files)
        except LookupError:
            return self._no_keys(columns)
        frame = pl.from_arrow(read.data)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def _no_keys(self, columns: tuple[str, ...]) -> pl.DataFrame:
        """No rows of `columns` (key and platform columns), typed."""
        schema: dict[str, pl.DataType] = {c: self.contract.dtypes[c] for c in self.contract.key}
        schema.update(
            {SOURCE_KEY: pl.String(), SOURCE_ROW: pl.Int64(), VALID_FROM: pl.Datetime("us", "UTC")}
        )
        return pl.DataFrame(schema={c: schema[c] for c in columns})

    def features_only(self, as_of: str) -> Iterator[IngestResult]:
        """Re-derive each partition's transformed rows from staged (as of a tag or snapshot)."""
        for partition in self.partitions:
            staged = self._read("staged", as_of, partition)
            frame = pl.from_arrow(staged.data)
            assert isinstance(frame, pl.DataFrame)
            features = build_features(frame, self.contract)
            write = self._overwrite("transformed", features, partition)
            yield LayerWritten(partition, "transformed", write, [staged], features)

    # -- helpers ------------------------------------------------------------------------------
    def _unpublish(self, partition: str) -> None:
        """Remove an upload's rows from staged and transformed (refused on replay)."""
        for layer in ("staged", "transformed"):
            self.lake.delete_partition(self.table(layer), column=SOURCE_KEY, values=[partition])

    def _writers(
        self, layers: list[str], partitions: list[str] | None = None
    ) -> dict[str, PartitionWriter]:
        """One writer per layer, over the run's partitions (or `partitions`); their tables
        are loaded (or created) in parallel."""

        def writer(layer: str) -> PartitionWriter:
            return self.lake.partition_writer(
                self.table(layer),
                _arrow(self.frames[layer]).schema,
                column=SOURCE_KEY,
                values=partitions or self.partitions,
                # the mode is recorded by each commit (its snapshot's summary), not on open:
                # a run refused for a mode change must leave the old mode in place
                table_properties={
                    k: v
                    for k, v in contract_properties(self.contract).items()
                    if k != MODE_PROPERTY
                },
            )

        with ThreadPoolExecutor(len(layers), thread_name_prefix="open-table") as pool:
            return dict(zip(layers, pool.map(writer, layers), strict=True))

    def _overwrite(self, layer: str, frame: pl.DataFrame, partition: str) -> WriteResult:
        writer = self._writers([layer], [partition])[layer]
        writer.add(frame)
        return writer.commit(contract_properties(self.contract))

    def _read(self, layer: str, as_of: str, partition: str) -> ReadResult:
        table = self.table(layer)
        return self.lake.read_partition(
            table,
            column=SOURCE_KEY,
            value=partition,
            snapshot_id=self.lake.resolve_snapshot(table, as_of),
        )

    @cached_property
    def _key(self) -> str:
        return pii_key(self.settings)

    def _pii_key(self) -> str:
        """The de-identification key, read (or made) once a run, only for a contract that
        needs one."""
        return self._key if self.contract.personal else ""

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

    def _progress(self, partition: str, rows: int, started: float) -> None:
        self.log(f"{partition}: {rows:,} rows read ({time.monotonic() - started:.0f}s)")


def layer_schemas(contract: Contract) -> dict[str, pa.Schema]:
    """The Arrow schema each layer's table gets under `contract`."""
    return {layer: _arrow(frame).schema for layer, frame in layer_frames(contract).items()}


def _changed_keys(read: _Read) -> pl.DataFrame | None:
    """The keys an upsert upload writes or deletes (with their file rows)."""
    parts = [f for f in (read.keys, read.deletes) if f is not None]
    return pl.concat(parts, how="vertical_relaxed") if parts else None


def _literal(value: object) -> object:
    """A polars scalar as the value an Iceberg predicate compares with."""
    return value.isoformat() if isinstance(value, date) else value  # dates and datetimes


def _add(
    writers: dict[str, PartitionWriter],
    layer: str,
    frame: pl.DataFrame,
    ingested_at: datetime | None,
    *,
    kept: pl.DataFrame | None = None,
) -> None:
    """`frame` into its layer's writer (or `kept`, its rows a later upload does not
    replace); staged rows are versions of an upsert dataset's history too, all of them."""
    writers[layer].add(frame if kept is None else kept)
    if layer == "staged" and "history" in writers:
        writers["history"].add(versions(frame, ingested_at))


def _arrow(frame: pl.DataFrame) -> pa.Table:
    return frame.to_arrow(compat_level=pl.CompatLevel.oldest())
