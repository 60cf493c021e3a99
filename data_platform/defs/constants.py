"""Names shared by every layer's definitions."""

from __future__ import annotations

from data_platform.contracts.columns import SOURCE_KEY

OWNERS = ["team:data-platform"]
__all__ = ["OWNERS", "SOURCE_KEY"]
