"""The Iceberg SQL catalog: SQLite under the platform home, or PostgreSQL when configured."""

from __future__ import annotations

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io import PY_IO_IMPL

from data_platform.lakehouse.commit import CommitPolicy
from data_platform.lakehouse.fileio import SharedFileIO
from data_platform.lakehouse.tables import Lakehouse
from data_platform.settings import CATALOG_NAME, Settings


def open_catalog(settings: Settings) -> SqlCatalog:
    """The catalog whose warehouse is `s3://<bucket>/warehouse` on the configured store."""
    if settings.catalog_url.startswith("sqlite:///"):
        settings.home_dir.mkdir(parents=True, exist_ok=True)
    shared_io = f"{SharedFileIO.__module__}.{SharedFileIO.__name__}"  # fileio.py: why
    return SqlCatalog(CATALOG_NAME, **catalog_properties(settings), **{PY_IO_IMPL: shared_io})


def open_lakehouse(settings: Settings) -> Lakehouse:
    """The lakehouse of `settings`: its catalog, and its history bound (`keep_snapshots`)."""
    return Lakehouse(open_catalog(settings), CommitPolicy(keep_snapshots=settings.keep_snapshots))


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The SQL catalog's properties: where it is, the warehouse, and its FileIO's store."""
    return {
        "uri": settings.catalog_url,
        "warehouse": settings.warehouse,
        "s3.endpoint": settings.endpoint,
        "s3.access-key-id": settings.access_key,
        "s3.secret-access-key": settings.secret_key,
        "s3.region": settings.s3_region,
        "s3.retry-strategy-impl": "data_platform.storage.arrow.ArrowRetryStrategy",
    }
