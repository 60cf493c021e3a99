"""Read an uploaded object into an all-text frame, exactly as uploaded.

Raw keeps every value as text so nothing is lost to type inference; typing happens in
the staged layer, where failures can be reported per row and column.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

import polars as pl

from data_platform.core.problems import Problem, UploadError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def upload_format(key: str) -> str:
    """The format of an upload, from its extension."""
    suffix = PurePosixPath(key).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise UploadError(
            key, Problem(f"unsupported file type {suffix or '(none)'!r}; use {known}")
        )
    return FORMATS[suffix]


def read_upload(data: bytes, key: str) -> pl.DataFrame:
    """Parse `data` (the bytes of object `key`) into a frame of String columns."""
    fmt = upload_format(key)
    if not data.strip():
        raise UploadError(key, Problem("the file is empty (no header, no rows)"))
    if fmt in {"csv", "jsonl"}:
        _check_utf8(data, key, fmt)
    try:
        if fmt == "csv":
            frame = pl.read_csv(data, infer_schema=False, raise_if_empty=True)
        elif fmt == "jsonl":
            frame = pl.read_ndjson(data, infer_schema_length=None)
        else:
            frame = pl.read_parquet(data)
    except pl.exceptions.PolarsError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UploadError(key, Problem(f"cannot parse as {fmt}: {first_line}")) from exc
    if frame.height == 0:
        raise UploadError(key, Problem("the file has a header but no rows"))
    return _as_text(frame)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; timestamps in ISO 8601 so staging parses them back exactly."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%dT%H:%M:%S%.f" + ("%:z" if dtype.time_zone else "")
            exprs.append(col.dt.to_string(fmt).alias(name))
        elif dtype.is_nested():
            exprs.append(col.map_elements(str, return_dtype=pl.String).alias(name))
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return frame.select(exprs)


def _check_utf8(data: bytes, key: str, fmt: str) -> None:
    """Fail with the row and column of the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line_number = data.count(b"\n", 0, exc.start)  # 0-based: the header is line 0
        column = None
        if fmt == "csv":
            header = next(csv.reader(io.StringIO(data[: data.find(b"\n")].decode("latin-1"))))
            prefix = data[line_start : exc.start].decode("latin-1")
            fields_before = len(next(csv.reader(io.StringIO(prefix)), [""])) - 1
            column = header[fields_before] if fields_before < len(header) else None
        bad = data[exc.start : exc.start + 1].hex()
        row = line_number if fmt == "csv" else line_number + 1
        raise UploadError(
            key,
            Problem(f"not UTF-8: byte 0x{bad} at offset {exc.start}", row=row, column=column),
        ) from None
