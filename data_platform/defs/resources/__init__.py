"""Dagster resources: thin wrappers that hand out the platform's clients."""

from data_platform.defs.resources.lakehouse import LakehouseResource
from data_platform.defs.resources.platform import SettingsResource
from data_platform.defs.resources.store import ObjectStoreResource

__all__ = ["LakehouseResource", "ObjectStoreResource", "SettingsResource"]
