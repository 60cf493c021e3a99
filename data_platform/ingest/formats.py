"""What an upload is: its format and compression from its name, and a check of its bytes.

A file whose bytes contradict its name (gzip data under `.csv`, a zip archive, an image,
UTF-16 text) is refused with a sentence saying what it looks like, never with a parser's
complaint about a garbage "column" made of its first bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from data_platform.ingest.problems import Problem, UploadError

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}

# (magic prefix, what it is); checked in order
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"PK\x03\x04", "a zip archive (or an Excel/Office file)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (e.g. .xls)"),
    (b"\x7fELF", "an executable program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"PAR1", "a Parquet file"),
    (b"\xff\xfe\x00\x00", "UTF-32 text"),
    (b"\x00\x00\xfe\xff", "UTF-32 text"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
COMPRESSION_MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd"}


@dataclass(frozen=True)
class UploadFormat:
    """How to read an upload: `csv`, `tsv`, `parquet` or `jsonl`, maybe compressed."""

    format: str
    compression: str | None = None

    @property
    def is_text(self) -> bool:
        return self.format in ("csv", "tsv", "jsonl")

    @property
    def separator(self) -> str | None:
        """The field separator of a delimited text format (None for others)."""
        return {"csv": ",", "tsv": "\t"}.get(self.format)

    def uncompressed(self) -> UploadFormat:
        return UploadFormat(self.format)

    def describe(self) -> str:
        name = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "jsonl": "JSON Lines"}
        return name[self.format] + (f" ({self.compression})" if self.compression else "")


def upload_format(key: str) -> UploadFormat:
    """The format of an upload from its name, e.g. `a.csv.gz` -> csv, gzip."""
    suffixes = [s.lower() for s in PurePosixPath(key).suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS)) + " (optionally + .gz or .zst)"
        raise UploadError(
            key, Problem(f"unsupported file type {suffix or '(none)'!r}; use {known}")
        )
    if compression and FORMATS[suffix] == "parquet":
        raise UploadError(key, Problem("Parquet compresses itself: upload the .parquet file"))
    return UploadFormat(FORMATS[suffix], compression)


def what_it_looks_like(head: bytes) -> str | None:
    """A person's description of binary content from its first bytes; None for plain text."""
    for magic, description in MAGIC:
        if head.startswith(magic):
            return description
    sample = head[:4096]
    if len(sample) >= 8 and sample.count(b"\x00") * 4 >= len(sample):
        # every other byte zero: UTF-16 without a byte-order mark
        return "UTF-16 text (without a byte-order mark)"
    return None


def check_content(key: str, fmt: UploadFormat, head: bytes) -> None:
    """Refuse bytes that are not what the name says, saying what they look like instead."""
    if not head.strip():
        raise UploadError(key, Problem("the file is empty (no header, no rows)"))
    if fmt.compression:
        if not head.startswith(COMPRESSION_MAGIC[fmt.compression]):
            found = what_it_looks_like(head) or "uncompressed data"
            raise UploadError(key, Problem(f"named .{fmt.compression} but the file is {found}"))
        return
    looks = what_it_looks_like(head)
    if fmt.format == "parquet":
        if not head.startswith(b"PAR1"):
            found = looks or "text or other data"
            raise UploadError(key, Problem(f"not a Parquet file: it looks like {found}"))
        return
    if looks is None:
        return
    hint = ""
    if looks.startswith(("gzip", "zstd")):
        ext = ".gz" if looks.startswith("gzip") else ".zst"
        hint = f"; name it {PurePosixPath(key).name}{ext} to have it decompressed"
    elif looks.startswith(("UTF-16", "UTF-32")):
        hint = "; save it as UTF-8"
    raise UploadError(key, Problem(f"not {fmt.describe()} text: it looks like {looks}{hint}"))
