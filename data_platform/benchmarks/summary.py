"""Combine format-benchmark rows into one table, two plots (PNG bytes) and a markdown table."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from data_platform.benchmarks.format_runner import FormatResult

if TYPE_CHECKING:  # matplotlib is imported where a plot is drawn (every process loads this)
    from matplotlib.figure import Figure

_MARKERS = {"pandas": "o", "polars": "s", "pyarrow": "^", "fastavro": "D"}


def results_table(results: Iterable[FormatResult | dict[str, Any]]) -> pl.DataFrame:
    """One polars row per result (`FormatResult` or its `to_dict()`), fastest loads first."""
    rows = [r.to_dict() if isinstance(r, FormatResult) else dict(r) for r in results]
    if not rows:
        raise ValueError("no results to summarise")
    table = pl.DataFrame(rows, infer_schema_length=None)
    return table.with_columns(file_mb=pl.col("file_bytes") / 2**20).sort(
        ["target", "rows", "load_s_median"]
    )


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plot_load_vs_size(table: pl.DataFrame) -> bytes:
    """Median load time against file size, one colour per format, log-log; PNG bytes."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6))
    ax = fig.add_subplot()
    colours = colormaps["tab20"]
    formats = sorted(table["format"].unique().to_list())
    for i, fmt in enumerate(formats):
        part = table.filter(pl.col("format") == fmt)
        colour = colours((2 * i) % 20 + (2 * i) // 20)  # distinct hues before light twins
        for (library, target), sub in part.sort("file_mb").group_by(
            ["library", "target"], maintain_order=True
        ):
            ax.plot(  # one line per format/library/target across sizes
                sub["file_mb"].to_list(),
                sub["load_s_median"].to_list(),
                marker=_MARKERS.get(str(library), "x"),
                color=colour,
                linestyle=("-" if target == "local" else "--") if sub.height > 1 else "none",
                linewidth=0.8,
                label=f"{fmt} / {library}" + ("" if target == "local" else f" ({target})"),
                alpha=0.85,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("file size (MiB, log)")
    ax.set_ylabel("median load time (s, log)")
    ax.set_title("Load time vs file size (marker = library, dashed = s3)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncols=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)


def plot_save_load(table: pl.DataFrame) -> bytes:
    """Horizontal bars of median save and load time per case (one bar pair per row); PNG."""
    from matplotlib.figure import Figure

    ordered = table.sort("load_s_median", descending=True)
    labels = ordered["case_id"].to_list()
    fig = Figure(figsize=(9, max(3.0, 0.28 * len(labels) + 1.2)))
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    height = 0.4
    ax.barh([p + height / 2 for p in positions], ordered["save_s_median"], height, label="save")
    ax.barh([p - height / 2 for p in positions], ordered["load_s_median"], height, label="load")
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("median time (s, log)")
    ax.set_title("Save and load time per case")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend()
    return _png(fig)


def _cell(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table(table: pl.DataFrame) -> str:
    """The summary as a GitHub markdown table (times are medians, peaks in MiB)."""
    columns = {
        "case": "case_id",
        "file MiB": "file_mb",
        "save s": "save_s_median",
        "load s": "load_s_median",
        "load rows/s": "load_rows_per_s",
        "peak save MiB": "peak_save_mb",
        "peak load MiB": "peak_load_mb",
        "cache": "load_cache",
    }
    shown = table.with_columns(
        peak_save_mb=pl.col("peak_save_bytes") / 2**20,
        peak_load_mb=pl.col("peak_load_bytes") / 2**20,
    )
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" if n == "case" else "---:" for n in columns) + "|",
    ]
    for row in shown.select(list(columns.values())).iter_rows():
        cells = [_cell(v, 1 if i in (1, 5, 6) else 3) for i, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
