"""`LakehouseResource`: the Iceberg tables of the lake."""

from __future__ import annotations

import dagster as dg

from data_platform.defs.resources.platform import SettingsResource
from data_platform.lakehouse import Lakehouse, open_lakehouse


class LakehouseResource(dg.ConfigurableResource):
    """Iceberg tables in the lake's bucket, through the SQL catalog."""

    platform: SettingsResource

    def get_lakehouse(self) -> Lakehouse:
        return open_lakehouse(self.platform.get_settings())
