"""`ObjectStoreResource`: the storage client of the lake's bucket."""

from __future__ import annotations

import dagster as dg

from data_platform.defs.resources.platform import SettingsResource
from data_platform.storage import ObjectStore


class ObjectStoreResource(dg.ConfigurableResource):
    """The lake's bucket, through the platform's storage client."""

    platform: SettingsResource

    def get_client(self) -> ObjectStore:
        return ObjectStore.from_settings(self.platform.get_settings())
