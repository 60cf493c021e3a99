"""One call per case: complete result rows with timings, size, cache state and fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_platform.benchmarks.cases import FormatCase
from data_platform.benchmarks.format_runner import run_format_case
from data_platform.benchmarks.provenance import fingerprint

FINGERPRINT_KEYS = {"fp_id", "fp_cpu", "fp_cores", "fp_memory_gb", "fp_os", "fp_python"}


@pytest.mark.parametrize(
    "case_id",
    ["parquet-zstd|polars|2k|local", "ipc|pyarrow|2k|local", "avro|fastavro|2k|local"],
)
def test_local_case_row_is_complete(case_id: str, tmp_path: Path) -> None:
    result = run_format_case(case_id, workdir=tmp_path, measure_memory=False)
    row = result.to_dict()
    assert row["case_id"] == case_id
    assert FINGERPRINT_KEYS <= row.keys()
    assert "pyarrow=" in row["fp_versions"]
    assert "polars=" in row["fp_versions"]
    assert row["fp_id"] == fingerprint()["fp_id"]
    assert len(row["save_s"]) == len(row["load_s"]) == row["repeats"] == 5
    assert 0 < row["save_s_min"] <= row["save_s_median"]
    assert 0 < row["load_s_min"] <= row["load_s_median"]
    assert row["load_rows_per_s"] == pytest.approx(2_000 / row["load_s_median"])
    assert row["file_bytes"] > 10_000
    assert row["load_cache"] == "cold"
    assert row["memory_method"] == "not-measured"
    assert row["machine_load"] >= 0
    assert not list(tmp_path.iterdir()), "the case file is deleted unless keep_file=True"


def test_peak_memory_is_measured_in_fresh_processes(tmp_path: Path) -> None:
    case = FormatCase("csv", "pandas", 20_000)
    result = run_format_case(case, workdir=tmp_path, keep_file=True)
    assert result.memory_method in ("vmhwm", "psutil-sampling")
    assert result.peak_save_bytes is not None
    assert result.peak_load_bytes is not None
    # a pandas frame of 20k reviews holds MiBs of Python strings
    assert result.peak_load_bytes > 2**20
    assert Path(result.location).stat().st_size == result.file_bytes


def test_fewer_than_five_repeats_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        run_format_case("csv|polars|1k|local", workdir=tmp_path, repeats=3)
