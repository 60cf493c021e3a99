"""The labeling queue of each dataset; `build_labeling_defs` wires it with `labeled/`."""

from data_platform.defs.labeling.definitions import build_labeling_defs

__all__ = ["build_labeling_defs"]
