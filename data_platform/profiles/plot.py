"""Reference against upload, drawn for the columns that drifted (PNG bytes).

Numbers, times and text lengths: the share of each in the reference's decile bins, side by
side; categories: the share of each value. A person sees in one look what moved.
"""

from __future__ import annotations

import io

from data_platform.profiles.column import ColumnProfile
from data_platform.profiles.drift import DECILES, DriftReport
from data_platform.profiles.profile import Profile

MAX_PANELS = 4


def drift_plot(report: DriftReport, upload: Profile, reference: Profile) -> bytes | None:
    """One panel per drifting column (the first four); None when nothing drifted."""
    columns = [c for c in report.columns if c in upload.columns and c in reference.columns]
    if not columns:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = columns[:MAX_PANELS]
    figure, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.2), squeeze=False)
    for axis, name in zip(axes[0], shown, strict=True):
        labels, ref_shares, up_shares = _bars(upload.columns[name], reference.columns[name])
        positions = range(len(labels))
        axis.bar([p - 0.2 for p in positions], ref_shares, 0.4, label="reference")
        axis.bar([p + 0.2 for p in positions], up_shares, 0.4, label="upload")
        axis.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=7)
        found = [m for m in report.findings if m.column == name]
        axis.set_title(f"{name}\n" + ", ".join(f"{m.metric} {m.value:.2f}" for m in found[:2]))
        axis.set_ylabel("share of rows")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()


def _bars(
    upload: ColumnProfile, reference: ColumnProfile
) -> tuple[list[str], list[float], list[float]]:
    """Bin labels and each side's shares."""
    if upload.kind == "category":
        up, ref = upload.categories(), reference.categories()
        keys = sorted(set(up) | set(ref), key=lambda k: -ref.get(k, 0))[:12]
        up_total = max(upload.rows - upload.nulls, 1)
        ref_total = max(reference.rows - reference.nulls, 1)
        return (
            keys,
            [ref.get(k, 0) / ref_total for k in keys],
            [up.get(k, 0) / up_total for k in keys],
        )
    mine, theirs = upload.spread, reference.spread
    if mine is None or theirs is None or mine.is_empty() or theirs.is_empty():
        return [], [], []
    splits = sorted({float(q) for q in theirs.get_quantiles(DECILES)})
    edges = [f"<{splits[0]:.3g}"] + [f">={s:.3g}" for s in splits]
    return edges, list(theirs.get_pmf(splits)), list(mine.get_pmf(splits))
