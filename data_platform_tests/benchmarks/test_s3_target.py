"""The s3 target: cases saved to and loaded from the real embedded S3 store."""

from __future__ import annotations

import pytest

from data_platform.benchmarks.cases import FormatCase
from data_platform.benchmarks.format_runner import run_format_case
from data_platform.settings import Settings
from data_platform.storage import ObjectStore

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "case_id",
    ["parquet-zstd|polars|2k|s3", "csv|pandas|2k|s3", "hdf5|pandas|2k|s3", "ipc-lz4|pyarrow|2k|s3"],
)
def test_s3_round_trip(case_id: str, settings: Settings, store: ObjectStore) -> None:
    result = run_format_case(case_id, settings=settings, keep_file=True, measure_memory=False)
    key = result.location.removeprefix(f"s3://{settings.bucket}/")
    assert key.startswith("benchmarks/formats/")
    assert store.stat(key).size == result.file_bytes > 1_000
    assert result.load_cache == "remote"
    assert result.target == "s3"
    assert result.rows == 2_000


def test_s3_target_cleans_up_and_needs_settings(settings: Settings, store: ObjectStore) -> None:
    run_format_case("pickle|polars|1k|s3", settings=settings, measure_memory=False)
    assert list(store.list("benchmarks/")) == []
    with pytest.raises(ValueError, match="Settings"):
        run_format_case("pickle|polars|1k|s3", measure_memory=False)


def test_s3_peak_memory_in_a_child_process(settings: Settings) -> None:
    result = run_format_case(FormatCase("parquet-zstd", "pyarrow", 20_000, "s3"), settings=settings)
    assert result.peak_load_bytes is not None
    assert result.peak_load_bytes > 0
