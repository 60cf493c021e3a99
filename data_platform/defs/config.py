"""Run configuration shared by the layer assets."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class LayerConfig(dg.Config):
    """Read inputs as of a past state of the lake, to reproduce a result."""

    as_of: str = Field(
        default="",
        description="Read input tables as of this Iceberg tag (e.g. a release) or snapshot id. "
        "Empty: their current snapshot.",
    )
