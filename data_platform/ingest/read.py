"""Reading an upload into frames, batch by batch, whatever its size.

The upload is in memory (bytes) when small, parsed whole and handed out in slices of
`batch_rows` rows; or spooled to a local file when large, which polars scans lazily in
batches of `batch_rows` rows, so peak memory follows the batch, not the file. Text formats
are read as text (each value exactly as written) and typed once, in `convert`; Parquet
keeps its own types. Each row carries `_source_row`, its 1-based position among the file's
data rows.

No reader error escapes as anything but `UploadError`: a Rust panic inside a reader is a
BaseException, not an Exception, and is caught here too.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import zstandard

from data_platform.contracts.columns import SOURCE_ROW
from data_platform.ingest.diagnose import diagnose
from data_platform.ingest.formats import UploadFormat, check_content
from data_platform.ingest.problems import Problem, UploadError

Source = bytes | Path
HEAD_BYTES = 64 * 1024
_NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def head_of(source: Source, size: int = HEAD_BYTES) -> bytes:
    if isinstance(source, bytes):
        return source[:size]
    with source.open("rb") as handle:
        return handle.read(size)


def decompressed(source: Source, fmt: UploadFormat, key: str, spool_dir: Path) -> Source:
    """The upload's bytes with its compression removed (large ones stream to a file)."""
    if fmt.compression is None:
        return source
    check_content(key, fmt, head_of(source))
    try:
        if isinstance(source, bytes):
            if fmt.compression == "gzip":
                return gzip.decompress(source)
            return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(source)).read()
        target = Path(tempfile.mkstemp(dir=spool_dir, suffix=".decompressed")[1])
        with source.open("rb") as raw, target.open("wb") as out:
            if fmt.compression == "gzip":
                with gzip.GzipFile(fileobj=raw) as stream:
                    shutil.copyfileobj(stream, out, 16 * 1024 * 1024)
            else:
                zstandard.ZstdDecompressor().copy_stream(raw, out)
        return target
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise UploadError(
            key, Problem(f"cannot decompress the {fmt.compression} data: {exc}")
        ) from None


def read_batches(
    source: Source, fmt: UploadFormat, key: str, batch_rows: int
) -> Iterator[pl.DataFrame]:
    """The (decompressed) upload's rows in batches of at most `batch_rows`, with `_source_row`.

    Raises:
        UploadError: the file cannot be read; its message says where and why.
    """
    fmt = fmt.uncompressed()
    try:
        head = head_of(source)
        check_content(key, fmt, head)
        if fmt.format in ("csv", "tsv"):
            _check_header(head, fmt, key)
        scan = (
            _scan(source, fmt)
            .with_row_index(SOURCE_ROW, offset=1)
            .with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))
        )
        if isinstance(source, bytes):
            # already in memory: one parse (a third less CPU than collecting batches),
            # then batches as slices of it (views, no copies)
            whole = scan.collect()
            for start in range(0, whole.height, batch_rows):
                yield whole.slice(start, batch_rows)
            return
        yield from scan.collect_batches(chunk_size=batch_rows)
    except UploadError:
        raise
    except BaseException as exc:  # a reader's panic is a BaseException
        if isinstance(exc, _NOT_OURS):
            raise
        raise UploadError(key, diagnose(source, fmt, exc)) from None


def _scan(source: Source, fmt: UploadFormat) -> pl.LazyFrame:
    if fmt.format in ("csv", "tsv"):
        return pl.scan_csv(
            source,
            separator=fmt.separator or ",",
            infer_schema=False,
            raise_if_empty=True,
        )
    if fmt.format == "jsonl":
        return pl.scan_ndjson(source, infer_schema_length=None)
    return pl.scan_parquet(source)


def _check_header(head: bytes, fmt: UploadFormat, key: str) -> None:
    """Blank or repeated column names are a file-level problem, named as such."""
    first = head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    try:
        names = next(csv.reader([first], delimiter=fmt.separator or ","), [])
    except csv.Error:
        return  # not even a header line: the reader says what is wrong
    blank = [i + 1 for i, n in enumerate(names) if not n.strip()]
    if blank and len(names) > 1:
        where = ", ".join(map(str, blank[:5]))
        raise UploadError(key, Problem(f"the header has no name for field(s) {where}"))
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise UploadError(
            key, Problem(f"the header repeats column(s) {', '.join(map(repr, repeated[:5]))}")
        )
