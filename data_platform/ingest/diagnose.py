"""Where a file that the fast reader refused goes wrong: the row, the column, the reason.

Only runs on failure, so it may be slow: it re-reads the start of the file with Python's
own decoders (at most `LIMIT` bytes) to find the first byte, line or field at fault.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

from data_platform.ingest.formats import UploadFormat
from data_platform.ingest.problems import Problem

LIMIT = 256 * 1024 * 1024


def diagnose(source: bytes | Path, fmt: UploadFormat, exc: BaseException) -> Problem:
    """The most precise problem we can name for a reader's failure `exc`."""
    data = source[:LIMIT] if isinstance(source, bytes) else _head(source)
    if fmt.is_text:
        found = _not_utf8(data, fmt)
        if found is None and b"\x00" in data:
            found = _nul_byte(data)
        if found is None:
            found = _bad_line(data, fmt)
        if found is not None:
            return found
    reason = _first_line(exc)
    return Problem(f"cannot read as {fmt.describe()}: {reason}")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(LIMIT)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.lower().startswith(("you might want", "consider")):
            return line[:300]
    return type(exc).__name__


def _row_and_field(data: bytes, offset: int, fmt: UploadFormat) -> tuple[int, str | None]:
    """Data row (1-based, header excluded) and column name of byte `offset`."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_number = data.count(b"\n", 0, offset)  # 0-based: the header is line 0
    if fmt.format == "jsonl":
        return line_number + 1, None
    delimiter = fmt.separator or ","
    header_line = data[: data.find(b"\n")] if b"\n" in data else data
    prefix = data[line_start:offset].decode("latin-1")
    try:
        header = next(csv.reader([header_line.decode("latin-1")], delimiter=delimiter), [])
        fields_before = len(next(csv.reader(io.StringIO(prefix), delimiter=delimiter), [""])) - 1
    except csv.Error:
        return line_number, None
    column = header[fields_before] if 0 <= fields_before < len(header) else None
    return line_number, column


def _not_utf8(data: bytes, fmt: UploadFormat) -> Problem | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    for start in range(0, len(data), step):
        try:
            decoder.decode(data[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            row, column = _row_and_field(data, offset, fmt)
            bad = data[offset : offset + 1].hex()
            where = " in the header" if row == 0 else ""  # rows are data rows, from 1
            reason = f"not UTF-8: byte 0x{bad} at offset {offset}{where}"
            return Problem(reason, row=row or None, column=column)
    return None


def _nul_byte(data: bytes) -> Problem | None:
    offset = data.find(b"\x00")
    row = data.count(b"\n", 0, offset)
    return Problem(f"a NUL byte (0x00) at offset {offset}: not a text file", row=row or None)


def _bad_line(data: bytes, fmt: UploadFormat) -> Problem | None:
    text = data.decode("utf-8", errors="replace")
    if fmt.format == "jsonl":
        # JSON Lines rows end at "\n" (a "\r" before it belongs to it): not at every
        # character `str.splitlines` breaks on, which would count rows the reader never sees
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                return Problem(f"not valid JSON: {exc.msg} (character {exc.pos + 1})", row=number)
            if not isinstance(value, dict):
                return Problem("a JSON Lines row must be an object {...}", row=number)
        return None
    delimiter = fmt.separator or ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        for fields in reader:
            if len(fields) != len(header):
                return Problem(
                    f"has {len(fields)} field(s), the header has {len(header)}",
                    row=reader.line_num - 1,
                )
    except csv.Error as exc:
        return Problem(f"malformed CSV: {exc}", row=max(reader.line_num - 1, 1))
    return None
