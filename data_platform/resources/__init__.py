"""Dagster resources: thin wrappers that hand out the platform's clients."""

from data_platform.resources.lakehouse import LakehouseResource
from data_platform.resources.platform import PlatformSettings
from data_platform.resources.store import ObjectStoreResource

__all__ = ["LakehouseResource", "ObjectStoreResource", "PlatformSettings"]
