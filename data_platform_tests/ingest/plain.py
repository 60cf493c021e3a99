"""A second opinion on an upload's rows: Python's own `csv` and `json`, no polars.

It shares no code with `data_platform.ingest`, so a row the pipeline loses, invents
or misplaces shows up as a difference between the two readings. The rules are RFC 4180's
as the pipeline documents them: a record ends at LF or CRLF (a lone CR is data), a quoted
field may span lines, a blank CSV line is a record with no values, and a blank JSON Lines
line is no record. It also writes rows back, for mutations that must keep an upload valid.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass

_LONE_CR = "\ue000"  # a private-use character: never in the generated uploads


@dataclass(frozen=True)
class Plain:
    """An upload as Python reads it: its columns and one dict per data record."""

    columns: list[str]
    records: list[dict[str, object]]
    regular: bool = True  # every record has exactly the columns (no short or long CSV row)

    def column(self, name: str) -> list[object]:
        return [r.get(name) for r in self.records]


def read_plain(data: bytes, name: str, *, lenient: bool = False) -> Plain | None:
    """The records of `data` (a `.csv` or `.jsonl` upload), or None if Python cannot read it.

    `lenient` (to count the rows of a refused upload) decodes bytes that are not UTF-8 as
    U+FFFD and reads a CSV quote out of place as data; strictly, either makes the upload
    unreadable.
    """
    try:
        text = data.decode("utf-8-sig", errors="replace" if lenient else "strict")
    except UnicodeDecodeError:
        return None
    if name.endswith(".csv"):
        return _read_csv(text, strict=not lenient)
    return _read_jsonl(text)


def _read_csv(text: str, strict: bool) -> Plain | None:
    csv.field_size_limit(sys.maxsize)
    guarded = re.sub(r"\r(?!\n)", _LONE_CR, text)
    try:
        rows = list(csv.reader(io.StringIO(guarded, newline=""), strict=strict))
    except csv.Error:
        return None
    if not rows:
        return Plain([], [])
    rows = [[field.replace(_LONE_CR, "\r") for field in row] for row in rows]
    header, *body = rows
    regular = len(set(header)) == len(header) and all(len(row) == len(header) for row in body)
    return Plain(header, [dict(zip(header, row, strict=False)) for row in body], regular)


def _read_jsonl(text: str) -> Plain | None:
    records: list[dict[str, object]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            value = json.loads(line, strict=False)  # raw control characters in strings
        except json.JSONDecodeError:
            return None
        if not isinstance(value, dict):
            return None
        records.append(value)
    columns = list(records[0]) if records else []
    return Plain(columns, records, all(set(r) == set(columns) for r in records))


def write_plain(plain: Plain, name: str, *, quote_all: bool = False, ascii: bool = False) -> bytes:
    """`plain` encoded again as `name`'s format (CSV: LF line ends, quoted where needed)."""
    buffer = io.StringIO(newline="")
    if name.endswith(".csv"):
        writer = csv.writer(
            buffer, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
        )
        writer.writerow(plain.columns)
        writer.writerows([r.get(c, "") for c in plain.columns] for r in plain.records)
    else:
        for record in plain.records:
            ordered = {c: record[c] for c in plain.columns if c in record}
            buffer.write(json.dumps(ordered, ensure_ascii=ascii) + "\n")
    return buffer.getvalue().encode("utf-8")
