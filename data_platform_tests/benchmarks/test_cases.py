"""The cases registry: stable ids, valid Dagster partition keys, only real combinations."""

from __future__ import annotations

import dagster as dg
import pytest

from data_platform.benchmarks.cases import (
    FORMATS,
    LIBRARIES,
    MISSING_COMBOS,
    SUPPORTED,
    FormatCase,
    all_cases,
    case_ids,
    parse_case_id,
    parse_size,
    size_label,
)
from data_platform.benchmarks.codecs import get_codec


def test_every_case_id_is_a_valid_static_partition_key() -> None:
    ids = case_ids()
    partitions = dg.StaticPartitionsDefinition(ids)
    assert partitions.get_partition_keys() == ids
    assert len(ids) == len(set(ids)) == len(SUPPORTED) * 3 * 2
    assert "parquet-zstd|polars|1m|local" in ids
    assert "hdf5|pandas|5m|s3" in ids


def test_ids_round_trip() -> None:
    for case in all_cases(sizes=("100k", "250", "2500k")):
        assert parse_case_id(case.case_id) == case
    assert FormatCase("csv", "pandas", 2_500_000).case_id == "csv|pandas|2500k|local"


def test_every_pair_is_either_a_case_or_explained() -> None:
    for fmt in FORMATS:
        for library in LIBRARIES:
            pair = (fmt, library)
            assert (pair in SUPPORTED) != (pair in MISSING_COMBOS) or library == "fastavro", pair
    assert ("hdf5", "polars") in MISSING_COMBOS
    assert ("avro", "polars") in MISSING_COMBOS


def test_every_supported_pair_has_a_codec() -> None:
    for fmt, library in SUPPORTED:
        codec = get_codec(fmt, library)
        assert (codec.format, codec.library) == (fmt, library)


@pytest.mark.parametrize(
    "bad", ["hdf5|polars|1m|local", "csv|pandas|1m|ftp", "csv|pandas|1q|local", "csv|pandas|1m"]
)
def test_invalid_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages, all ValueError
        parse_case_id(bad)


def test_size_labels() -> None:
    assert parse_size("100k") == 100_000
    assert parse_size("5m") == 5_000_000
    assert size_label(1_000_000) == "1m"
    assert size_label(1_500) == "1500"
    assert size_label(1_000) == "1k"
