"""The Iceberg lakehouse: catalog, write modes, snapshots."""

from data_platform.lakehouse import metadata_cache
from data_platform.lakehouse.catalog import open_catalog, open_lakehouse
from data_platform.lakehouse.commit import CommitPolicy
from data_platform.lakehouse.tables import Lakehouse, PartitionWriter, ReadResult, WriteResult

metadata_cache.install()

__all__ = [
    "CommitPolicy",
    "Lakehouse",
    "PartitionWriter",
    "ReadResult",
    "WriteResult",
    "open_catalog",
    "open_lakehouse",
]
