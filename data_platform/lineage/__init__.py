"""Which data produced this? Walk materialisation metadata back to the landing objects."""

from data_platform.lineage.chain import LineageNode, parse_asset_key, sources, trace
from data_platform.lineage.events import (
    latest_materialization,
    materialization_for_snapshot,
)

__all__ = [
    "LineageNode",
    "latest_materialization",
    "materialization_for_snapshot",
    "parse_asset_key",
    "sources",
    "trace",
]
