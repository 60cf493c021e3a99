"""The labeling queue of each dataset and `labeled/<dataset>` (labels synced from the tool,
with label quality checks); `build_labeling_defs` wires them."""

from data_platform.defs.labeling.definitions import build_labeling_defs

__all__ = ["build_labeling_defs"]
