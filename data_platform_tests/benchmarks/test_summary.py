"""The summary: one polars table, two PNG plots, a markdown table."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from data_platform.benchmarks.format_runner import run_format_case
from data_platform.benchmarks.summary import (
    markdown_table,
    plot_load_vs_size,
    plot_save_load,
    results_table,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_summary_table_plots_and_markdown(tmp_path: Path) -> None:
    results = [
        run_format_case(case_id, workdir=tmp_path, measure_memory=False)
        for case_id in ("csv|polars|3k|local", "parquet-snappy|pandas|3k|local")
    ]
    table = results_table(results)
    assert table.height == 2
    assert table["fp_id"].n_unique() == 1
    assert table.schema["load_s"] == pl.List(pl.Float64)
    assert (table["file_mb"] > 0).all()

    for png in (plot_load_vs_size(table), plot_save_load(table)):
        assert png.startswith(PNG_MAGIC)
        assert len(png) > 5_000
        (tmp_path / "plot.png").write_bytes(png)
        from matplotlib.image import imread

        assert imread(tmp_path / "plot.png").ndim == 3  # decodes as an image

    text = markdown_table(table)
    lines = text.splitlines()
    assert lines[0].startswith("| case |")
    assert len(lines) == 2 + 2
    assert any("csv|polars|3k|local" in line for line in lines)
