"""Resource bindings. Values come from `DP_*` variables when a run starts, never at import."""

from __future__ import annotations

from typing import Any

from data_platform.defs.resources import LakehouseResource, ObjectStoreResource, SettingsResource
from data_platform.defs.resources.embedding import VectorStoreResource
from data_platform.defs.resources.sql import LakeSQLResource
from data_platform.settings import Settings


def build_resources(platform: SettingsResource | None = None) -> dict[str, Any]:
    """The resources every layer uses, all reading the same settings."""
    platform = platform or SettingsResource.from_environment()
    return {
        "platform": platform,
        "store": ObjectStoreResource(platform=platform),
        "lakehouse": LakehouseResource(platform=platform),
        "vectors": VectorStoreResource(platform=platform),
        "lake_sql": LakeSQLResource(lakehouse=LakehouseResource(platform=platform)),
    }


def resources_for(settings: Settings) -> dict[str, Any]:
    """Resources pinned to one `Settings` (tests, the demo runner)."""
    return build_resources(SettingsResource.from_settings(settings))
