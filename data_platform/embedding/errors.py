"""Errors of the vector store, each with a message a person can act on."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class VectorStoreError(Exception):
    """Base class of the vector store's errors."""


class DatasetNotFoundError(VectorStoreError, KeyError):
    """No vector table exists for the dataset."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class InvalidFilterError(VectorStoreError, ValueError):
    """A ``where`` filter does not parse or names an unknown column."""


class SchemaMismatchError(VectorStoreError, ValueError):
    """Rows to write do not fit the table (missing columns, wrong vector size, bad ids)."""


def guard_filter(call: Callable[[], T], where: str | None) -> T:
    """Run a LanceDB call; a rejected ``where`` becomes an `InvalidFilterError`."""
    try:
        return call()
    except ValueError as exc:
        if where and "Invalid input" in str(exc):
            # LanceDB lists its hidden columns (_rowid, _rowaddr, ...) too: not the user's
            detail = re.sub(r",? `?_row\w+`?", "", str(exc).removeprefix("Invalid input, "))
            raise InvalidFilterError(f"invalid filter {where!r}: {detail}") from None
        raise
