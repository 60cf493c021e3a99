"""`data-platform demo`: stack up, sample data uploaded, every asset materialised."""

from __future__ import annotations


def demo() -> None:
    """Run the main job on the embedded default and print a summary."""
    raise NotImplementedError
