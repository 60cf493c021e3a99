"""The Iceberg lakehouse: catalog, write modes, snapshots."""

from data_platform.lakehouse.catalog import open_catalog
from data_platform.lakehouse.tables import Lakehouse, ReadResult, WriteResult

__all__ = ["Lakehouse", "ReadResult", "WriteResult", "open_catalog"]
