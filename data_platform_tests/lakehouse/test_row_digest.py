"""`Lakehouse.digest` reads the rows, so a broken data file shows where `count` does not."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from data_platform.lakehouse import Lakehouse
from data_platform.lakehouse.orphans import split_uri

pytestmark = pytest.mark.integration

TABLE = "staged.items"


def expected(frame: pl.DataFrame) -> str:
    """The digest computed apart from the code under test: Python's sum of the row hashes."""
    return f"{sum(frame.hash_rows(seed=0).to_list()) % 2**64:016x}"


def rows(start: int, n: int) -> pa.Table:
    return pa.table({"part": ["a"] * n, "v": list(range(start, start + n))})


def data_file_key(lake: Lakehouse) -> str:
    table = lake.load(TABLE)
    (task,) = list(table.scan().plan_files())
    return split_uri(task.file.file_path)[1]


def test_digest_is_the_rows_in_any_order_or_layout(lakehouse):
    lakehouse.append(TABLE, rows(0, 5), partition_by="part")
    lakehouse.append(TABLE, rows(5, 5), partition_by="part")
    whole = pl.DataFrame(rows(0, 10))
    assert lakehouse.digest(TABLE) == (10, expected(whole))
    assert lakehouse.digest(TABLE, ("v",)) == (10, expected(whole.select("v")))
    # the same rows in one file, reversed: the same digest; one value changed: another
    lakehouse.replace(TABLE, rows(0, 10).take(list(range(9, -1, -1))))
    assert lakehouse.digest(TABLE) == (10, expected(whole))
    lakehouse.replace(TABLE, rows(1, 10))
    assert lakehouse.digest(TABLE)[1] != expected(whole)


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_a_broken_data_file_fails_the_digest_not_the_count(lakehouse, store, damage):
    lakehouse.append(TABLE, rows(0, 100), partition_by="part")
    key = data_file_key(lakehouse)
    if damage == "deleted":
        store.delete(key)
    else:
        body = store.get_bytes(key)
        store.put_bytes(key, body[: len(body) // 2])
    assert lakehouse.count(TABLE) == 100  # the manifests still say so
    with pytest.raises((OSError, pa.ArrowException)):
        lakehouse.digest(TABLE)
