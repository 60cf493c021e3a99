"""`PlatformSettings`: the Settings object as a Dagster resource.

Fields left unset are read from the `DP_*` environment when a run starts (never at import),
so one definition serves the embedded stack, MinIO and AWS alike.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from data_platform.settings import Settings, load_settings


class PlatformSettings(dg.ConfigurableResource):
    """Where the lake lives. Unset fields come from `DP_*` variables or the embedded stack."""

    home: str | None = Field(default=None, description="State directory (DP_HOME).")
    s3_endpoint: str | None = Field(default=None, description="S3 endpoint (DP_S3_ENDPOINT).")
    s3_access_key: str | None = Field(default=None, description="Access key (DP_S3_ACCESS_KEY).")
    s3_secret_key: str | None = Field(default=None, description="Secret key (DP_S3_SECRET_KEY).")
    bucket: str | None = Field(default=None, description="Bucket of the lake (DP_BUCKET).")
    catalog_uri: str | None = Field(default=None, description="Iceberg catalog (DP_CATALOG_URI).")

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformSettings:
        """Pin every value of `settings` (tests, the demo runner)."""
        return cls(
            home=str(settings.home),
            s3_endpoint=settings.endpoint,
            s3_access_key=settings.access_key,
            s3_secret_key=settings.secret_key,
            bucket=settings.bucket,
            catalog_uri=settings.catalog_url,
        )

    def get_settings(self) -> Settings:
        return load_settings(
            home=self.home,
            s3_endpoint=self.s3_endpoint,
            s3_access_key=self.s3_access_key,
            s3_secret_key=self.s3_secret_key,
            bucket=self.bucket,
            catalog_uri=self.catalog_uri,
        )
