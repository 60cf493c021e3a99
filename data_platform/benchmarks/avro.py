"""Avro through fastavro: a schema derived from the frame, records in, a pandas frame out.

fastavro works on Python dict records, so a save turns the frame into records and a load
builds a pandas frame from them; both conversions are part of the timed work, because
they are what using Avro from Python costs.
"""

from __future__ import annotations

from typing import IO, Any

import polars as pl

_SCALARS: dict[type[pl.DataType], str] = {
    pl.String: "string",
    pl.Int64: "long",
    pl.Int32: "int",
    pl.Float64: "double",
    pl.Float32: "float",
    pl.Boolean: "boolean",
}


def avro_schema(frame: Any, name: str = "Review") -> dict[str, Any]:
    """An Avro record schema for a pandas frame's columns (via their polars types)."""
    schema = pl.from_pandas(frame.head(1)).schema if hasattr(frame, "iloc") else frame.schema
    fields = []
    for column, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            avro_type: Any = {"type": "long", "logicalType": "timestamp-micros"}
        elif type(dtype) in _SCALARS:
            avro_type = _SCALARS[type(dtype)]
        else:
            raise TypeError(f"no Avro mapping for column {column!r} of type {dtype}")
        fields.append({"name": column, "type": avro_type})
    return {"type": "record", "name": name, "fields": fields}


def write_avro(frame: Any, sink: str | IO[bytes]) -> None:
    """Write a pandas frame as one uncompressed Avro container file."""
    import fastavro

    schema = fastavro.parse_schema(avro_schema(frame))
    records = frame.to_dict("records")
    if isinstance(sink, str):
        with open(sink, "wb") as handle:
            fastavro.writer(handle, schema, records)
    else:
        fastavro.writer(sink, schema, records)


def read_avro(source: str | IO[bytes], _schema: pl.Schema | None = None) -> Any:
    """Read an Avro container file into a pandas frame."""
    import fastavro
    import pandas as pd

    if isinstance(source, str):
        with open(source, "rb") as handle:
            records = list(fastavro.reader(handle))
    else:
        records = list(fastavro.reader(source))
    return pd.DataFrame.from_records(records)
