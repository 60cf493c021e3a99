"""How each library writes and reads each format: one `Codec` per supported case pair.

A codec's `write(frame, sink)` and `read(source, schema)` take either a local path (so a
library can use its own file I/O, memory maps included) or a binary file object (the S3
target streams through one). `prepare` turns the polars demo frame into the library's own
frame outside any timing. Readers of untyped formats (CSV, JSON) are told which columns
are timestamps, as a real pipeline that knows its schema would be.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import polars as pl

from data_platform.benchmarks.cases import SUPPORTED

Sink = str | IO[bytes]
Reader = Callable[[Sink, pl.Schema], Any]
Writer = Callable[[Any, Sink], None]

HDF5_KEY = "reviews"


def _timestamps(schema: pl.Schema) -> list[str]:
    return [name for name, dtype in schema.items() if isinstance(dtype, pl.Datetime)]


def _polars_typed(reader: Callable[..., pl.DataFrame], source: Sink, schema: pl.Schema) -> Any:
    """Read text with the schema, timestamps as strings parsed after.

    polars 2.1 parses time-zoned timestamps inside `read_csv`/`read_ndjson` 3-13x slower
    than `str.to_datetime` on the column read as a string (measured here).
    """
    stamps = _timestamps(schema)
    frame = reader(source, schema={**schema, **dict.fromkeys(stamps, pl.String)})
    parsed = []
    for name in stamps:
        dtype = schema[name]
        assert isinstance(dtype, pl.Datetime)
        parsed.append(
            pl.col(name).str.to_datetime(time_unit=dtype.time_unit, time_zone=dtype.time_zone)
        )
    return frame.with_columns(parsed)


def _pandas_json(source: Sink, schema: pl.Schema) -> Any:
    """Read JSON Lines with pandas, the schema's timestamp columns parsed after.

    pandas 3 deprecates `read_json(convert_dates=...)`; `dtype=False` skips its per-column
    type guessing (the JSON values are already typed), and the ISO timestamps are parsed by
    `to_datetime` with the format given: 1.6x faster than the default at 100k rows (here).
    """
    import pandas as pd

    frame = pd.read_json(source, lines=True, dtype=False)
    for name in _timestamps(schema):
        frame[name] = pd.to_datetime(frame[name], format="ISO8601")
    return frame


def _parquet(compression: str) -> dict[str, tuple[Writer, Reader]]:
    import pandas as pd
    import pyarrow.parquet as pq

    return {
        "pandas": (
            lambda df, s: df.to_parquet(s, compression=compression, index=False),
            lambda s, _: pd.read_parquet(s),
        ),
        "polars": (
            lambda df, s: df.write_parquet(s, compression=compression),
            lambda s, _: pl.read_parquet(s),
        ),
        "pyarrow": (
            lambda t, s: pq.write_table(t, s, compression=compression),
            lambda s, _: pq.read_table(s),
        ),
    }


def _ipc(compression: str) -> dict[str, tuple[Writer, Reader]]:
    import pandas as pd
    import pyarrow.feather as feather

    arrow_codec = "uncompressed" if compression == "uncompressed" else compression
    return {
        "pandas": (
            lambda df, s: df.to_feather(s, compression=arrow_codec),
            lambda s, _: pd.read_feather(s),
        ),
        # polars 2.1 reads the file into its own buffers (no memory_map option any more);
        # pyarrow memory-maps a local file: no copy, no parse, pages fault in on use
        "polars": (
            lambda df, s: df.write_ipc(s, compression=compression),
            lambda s, _: pl.read_ipc(s),
        ),
        "pyarrow": (
            lambda t, s: feather.write_feather(t, s, compression=arrow_codec),
            lambda s, _: feather.read_table(s, memory_map=isinstance(s, str)),
        ),
    }


def _csv() -> dict[str, tuple[Writer, Reader]]:
    import pandas as pd
    import pyarrow.csv as pacsv

    return {
        "pandas": (
            lambda df, s: df.to_csv(s, index=False),
            lambda s, schema: pd.read_csv(s, parse_dates=_timestamps(schema)),
        ),
        "polars": (
            lambda df, s: df.write_csv(s),
            lambda s, schema: _polars_typed(pl.read_csv, s, schema),
        ),
        "pyarrow": (lambda t, s: pacsv.write_csv(t, s), lambda s, _: pacsv.read_csv(s)),
    }


def _others() -> dict[tuple[str, str], tuple[Writer, Reader]]:
    import pandas as pd
    import pyarrow.orc as orc

    from data_platform.benchmarks import avro

    def dump(obj: Any, sink: Sink) -> None:
        if isinstance(sink, str):
            with open(sink, "wb") as handle:
                pickle.dump(obj, handle, protocol=5)
        else:
            pickle.dump(obj, sink, protocol=5)

    def load(source: Sink, _: pl.Schema) -> Any:
        if isinstance(source, str):
            with open(source, "rb") as handle:
                return pickle.load(handle)
        return pickle.load(source)

    return {
        ("orc", "pandas"): (lambda df, s: df.to_orc(s, index=False), lambda s, _: pd.read_orc(s)),
        ("orc", "pyarrow"): (lambda t, s: orc.write_table(t, s), lambda s, _: orc.read_table(s)),
        ("jsonl", "pandas"): (
            lambda df, s: df.to_json(s, orient="records", lines=True, date_format="iso"),
            lambda s, schema: _pandas_json(s, schema),
        ),
        ("jsonl", "polars"): (
            lambda df, s: df.write_ndjson(s),
            lambda s, schema: _polars_typed(pl.read_ndjson, s, schema),
        ),
        ("pickle", "pandas"): (lambda df, s: df.to_pickle(s), lambda s, _: pd.read_pickle(s)),
        ("pickle", "polars"): (dump, load),
        # table format: PyTables stores strings as fixed-width columns (fixed format pickles)
        ("hdf5", "pandas"): (
            lambda df, s: df.to_hdf(s, key=HDF5_KEY, mode="w", format="table", index=False),
            lambda s, _: pd.read_hdf(s, HDF5_KEY),
        ),
        ("avro", "fastavro"): (avro.write_avro, avro.read_avro),
    }


@dataclass(frozen=True)
class Codec:
    """One library's writer and reader for one format."""

    format: str
    library: str
    write: Writer
    read: Reader
    frame_kind: str  # "polars" | "pandas" | "arrow": what `prepare` makes and `read` returns
    needs_path: bool = False  # the library cannot stream: S3 goes through a local file

    @property
    def extension(self) -> str:
        return {"jsonl": "jsonl", "hdf5": "h5", "pickle": "pkl"}.get(
            self.format, self.format.split("-")[0]
        )

    def prepare(self, frame: pl.DataFrame) -> Any:
        """The demo frame as this library's frame (done outside timing)."""
        if self.frame_kind == "pandas":
            return frame.to_pandas()
        if self.frame_kind == "arrow":
            return frame.to_arrow()
        return frame


def _all_codecs() -> dict[tuple[str, str], Codec]:
    pairs: dict[tuple[str, str], tuple[Writer, Reader]] = {}
    factories: tuple[tuple[str, Callable[[], dict[str, tuple[Writer, Reader]]]], ...] = (
        ("parquet-snappy", lambda: _parquet("snappy")),
        ("parquet-zstd", lambda: _parquet("zstd")),
        ("ipc", lambda: _ipc("uncompressed")),
        ("ipc-lz4", lambda: _ipc("lz4")),
        ("ipc-zstd", lambda: _ipc("zstd")),
        ("csv", _csv),
    )
    for fmt, factory in factories:
        pairs.update({(fmt, lib): funcs for lib, funcs in factory().items()})
    pairs.update(_others())
    kinds = {"polars": "polars", "pyarrow": "arrow", "pandas": "pandas", "fastavro": "pandas"}
    codecs = {
        key: Codec(key[0], key[1], w, r, kinds[key[1]], needs_path=key[0] == "hdf5")
        for key, (w, r) in pairs.items()
    }
    if set(codecs) != set(SUPPORTED):
        raise RuntimeError(f"codecs and SUPPORTED disagree: {set(codecs) ^ set(SUPPORTED)}")
    return codecs


_CODECS: dict[tuple[str, str], Codec] = {}


def get_codec(fmt: str, library: str) -> Codec:
    """The codec of a supported (format, library) pair; libraries are imported on first use."""
    if not _CODECS:
        _CODECS.update(_all_codecs())
    return _CODECS[(fmt, library)]


def to_polars(frame: Any) -> pl.DataFrame:
    """A loaded frame (polars, pandas or Arrow) as polars, for checks and comparisons."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if hasattr(frame, "iloc"):
        return pl.from_pandas(frame)
    loaded = pl.from_arrow(frame)
    if not isinstance(loaded, pl.DataFrame):  # an Arrow array, not a table
        raise TypeError(f"expected a table, got {type(frame).__name__}")
    return loaded


def row_count(frame: Any) -> int:
    """Rows of a polars, pandas or Arrow frame."""
    return frame.num_rows if hasattr(frame, "num_rows") else len(frame)
