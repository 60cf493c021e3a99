"""A frame's personal columns, de-identified as the contract says, in one vectorised pass.

- `hash`: a keyed HMAC-SHA256 of the value (hex, 32 characters; an integer column keeps its
  type: the HMAC's first 63 bits), so the same value in two datasets hashes the same and
  joins still work, and without the key nobody can test a guess;
- `redact`: the literal `[REDACTED]`;
- `generalise`: a date or datetime to January 1st of its year (`date_of_birth`), a string to
  its first three characters (`postal_code`, HIPAA's three-digit ZIP);
- `scrub`: free text with identifiers inside it replaced (`patterns.PATTERNS`);
- `drop`: null.
Nulls stay null. Raw is never passed here: it keeps what arrived.
"""

from __future__ import annotations

import polars as pl
import polars_hash as plh

from data_platform.contracts import Contract
from data_platform.privacy.patterns import scrub, scrub_series

REDACTED = "[REDACTED]"
HASH_CHARS = 32  # 128 bits of the HMAC


def deidentify(frame: pl.DataFrame, contract: Contract, key: str) -> pl.DataFrame:
    """`frame` with the contract's personal columns de-identified (others untouched)."""
    personal = {n: a for n, a in contract.personal.items() if n in frame.columns}
    if not personal:
        return frame
    # free text is scrubbed where it may hold an identifier only; the rest in one pass,
    # each column on its own thread (polars runs the expressions in parallel)
    scrubbed = [
        scrub_series(frame.get_column(name).clone())
        for name, action in personal.items()
        if action == "scrub"
    ]
    return frame.with_columns(
        *(
            expression(name, action, frame.schema[name], key).alias(name)
            for name, action in personal.items()
            if action != "scrub"
        ),
        *scrubbed,
    )


def expression(name: str, action: str, dtype: pl.DataType, key: str) -> pl.Expr:
    column = pl.col(name)
    if action == "hash":
        # polars-hash registers its namespace on every expression (an integer is cast first)
        hashed = plh.col(name).cast(pl.String).chash.hmac_sha256(key=key)  # type: ignore[attr-defined]
        if dtype.is_integer():  # the first 15 hex digits: 60 bits, a positive Int64
            return hashed.str.slice(0, 15).str.to_integer(base=16).cast(dtype)
        return hashed.str.slice(0, HASH_CHARS)
    if action == "redact":
        return pl.when(column.is_null()).then(None).otherwise(pl.lit(REDACTED))
    if action == "generalise":
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            return column.dt.truncate("1y")
        return column.str.slice(0, 3)
    if action == "scrub":
        return scrub(column)
    if action == "drop":
        return pl.lit(None, dtype)
    raise ValueError(f"unknown de-identification {action!r}")


def mask_values(frame: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """A frame shown to people (a raw preview): personal columns as `[REDACTED]`."""
    personal = [n for n in contract.personal if n in frame.columns]
    if not personal:
        return frame
    return frame.with_columns(
        pl.when(pl.col(n).is_null()).then(None).otherwise(pl.lit(REDACTED)).alias(n)
        for n in personal
    )
