"""`VectorStoreResource`: LanceDB tables in the lake's bucket (or a local path)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from data_platform.resources.platform import PlatformSettings
from data_platform.vectors import VectorStore


class VectorStoreResource(dg.ConfigurableResource):
    """Sentence-embedding tables, searchable, beside the Iceberg tables."""

    platform: PlatformSettings
    local_path: str | None = Field(
        default=None, description="Keep LanceDB on this local path instead of the bucket."
    )

    def get_store(self) -> VectorStore:
        return VectorStore.from_settings(self.platform.get_settings(), local_path=self.local_path)
