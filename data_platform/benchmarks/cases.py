"""The registry of storage-format benchmark cases: format x library x size x target.

Each case has a stable string id, ``format|library|size|target`` (for example
``parquet-zstd|polars|1m|local``), usable as a Dagster static partition key: it holds no
``...`` and no control characters. Only combinations a library really implements are
cases; the others are listed in `MISSING_COMBOS` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMATS: tuple[str, ...] = (
    "csv",
    "parquet-snappy",
    "parquet-zstd",
    "ipc",
    "ipc-lz4",
    "ipc-zstd",
    "orc",
    "jsonl",
    "pickle",
    "hdf5",
    "avro",
)
LIBRARIES: tuple[str, ...] = ("pandas", "polars", "pyarrow", "fastavro")
TARGETS: tuple[str, ...] = ("local", "s3")
SIZES: tuple[str, ...] = ("100k", "1m", "5m")

# (format, library) pairs that are cases; every library reads and writes the format itself
SUPPORTED: tuple[tuple[str, str], ...] = (
    *((f, lib) for f in ("csv", "parquet-snappy", "parquet-zstd") for lib in LIBRARIES[:3]),
    *((f, lib) for f in ("ipc", "ipc-lz4", "ipc-zstd") for lib in LIBRARIES[:3]),
    ("orc", "pandas"),
    ("orc", "pyarrow"),
    ("jsonl", "pandas"),
    ("jsonl", "polars"),
    ("pickle", "pandas"),
    ("pickle", "polars"),
    ("hdf5", "pandas"),
    ("avro", "fastavro"),
)

MISSING_COMBOS: dict[tuple[str, str], str] = {
    ("orc", "polars"): "polars has no ORC reader or writer",
    ("jsonl", "pyarrow"): "pyarrow reads JSON Lines (pyarrow.json) but has no JSON writer",
    ("pickle", "pyarrow"): "pickle is Python's format, not pyarrow's; pyarrow has no pickle API",
    ("hdf5", "polars"): "polars has no HDF5 support (pandas reaches it through PyTables)",
    ("hdf5", "pyarrow"): "pyarrow has no HDF5 support",
    ("avro", "polars"): (
        "polars 2.1 write_avro fails on Datetime with a time zone "
        "('not yet implemented: write Timestamp(Microsecond, Some(\"UTC\")) to avro')"
    ),
    ("avro", "pandas"): "pandas has no Avro API; the Avro case is fastavro (records -> pandas)",
    ("avro", "pyarrow"): "pyarrow has no Avro reader or writer",
}

_SIZE = re.compile(r"^(\d+)([km]?)$")
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000}


def parse_size(label: str) -> int:
    """Rows of a size label: ``"100k"`` -> 100_000, ``"5M"`` -> 5_000_000, ``"250"`` -> 250."""
    match = _SIZE.match(label.strip().lower().replace("_", ""))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"bad size label {label!r}: use e.g. 250, 100k, 1m")
    return int(match.group(1)) * _UNITS[match.group(2)]


def size_label(rows: int) -> str:
    """The shortest exact label of a row count: 1_000_000 -> ``"1m"``, 2_500 -> ``"2500"``."""
    if rows <= 0:
        raise ValueError(f"rows must be positive, got {rows}")
    for unit, factor in (("m", 1_000_000), ("k", 1_000)):
        if rows % factor == 0:
            return f"{rows // factor}{unit}"
    return str(rows)


@dataclass(frozen=True)
class FormatCase:
    """One benchmark case: write and read `rows` rows in `format` with `library` on `target`."""

    format: str
    library: str
    rows: int
    target: str = "local"

    def __post_init__(self) -> None:
        if (self.format, self.library) not in SUPPORTED:
            reason = MISSING_COMBOS.get((self.format, self.library), "unknown format or library")
            raise ValueError(f"no case {self.format}|{self.library}: {reason}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        size_label(self.rows)

    @property
    def case_id(self) -> str:
        return f"{self.format}|{self.library}|{size_label(self.rows)}|{self.target}"

    @property
    def slug(self) -> str:
        """The id as a file or object-key name (no ``|``)."""
        return self.case_id.replace("|", "__")


def parse_case_id(case_id: str) -> FormatCase:
    """The case of an id made by `FormatCase.case_id` (the inverse of it)."""
    parts = case_id.split("|")
    if len(parts) != 4:
        raise ValueError(f"case id {case_id!r} is not format|library|size|target")
    fmt, library, size, target = parts
    return FormatCase(fmt, library, parse_size(size), target)


def all_cases(
    sizes: tuple[str, ...] = SIZES,
    targets: tuple[str, ...] = TARGETS,
    formats: tuple[str, ...] = FORMATS,
    libraries: tuple[str, ...] = LIBRARIES,
) -> list[FormatCase]:
    """Every supported case over the given dimensions, in a stable order."""
    return [
        FormatCase(fmt, lib, parse_size(size), target)
        for target in targets
        for size in sizes
        for fmt in formats
        for lib in libraries
        if (fmt, lib) in SUPPORTED
    ]


def case_ids(**dimensions: tuple[str, ...]) -> list[str]:
    """Ids of `all_cases(**dimensions)`, e.g. for ``StaticPartitionsDefinition``."""
    return [case.case_id for case in all_cases(**dimensions)]
