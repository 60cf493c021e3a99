"""`SettingsResource`: the one `Settings` object as a Dagster resource.

The fields are what a deployment may pin through Dagster config; everything left unset is
read by `Settings` from the `DP_*` environment when a run (or sensor tick) starts, never at
import. `from_environment` binds the secret-bearing fields to `dg.EnvVar` where their
variable is set (`resources/env.py`). The `Settings` is built once per run in
`setup_for_execution` and shared by every resource that holds this one, so a step reads
the environment and the stack's state file once.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr

from data_platform.defs.resources.env import env_bound, pinned
from data_platform.settings import Settings, load_settings

# bound to dg.EnvVar where their variable is set; a catalog URI may hold a password
SECRET_FIELDS = ("s3_access_key", "s3_secret_key", "catalog_uri")


class SettingsResource(dg.ConfigurableResource):
    """The Dagster resource over `Settings` (the `platform` resource): where the lake lives.
    Unset fields come from `DP_*` variables or the embedded stack."""

    home: str | None = Field(default=None, description="State directory (DP_HOME).")
    s3_endpoint: str | None = Field(default=None, description="S3 endpoint (DP_S3_ENDPOINT).")
    s3_access_key: str | None = Field(default=None, description="Access key (DP_S3_ACCESS_KEY).")
    s3_secret_key: str | None = Field(default=None, description="Secret key (DP_S3_SECRET_KEY).")
    bucket: str | None = Field(default=None, description="Bucket of the lake (DP_BUCKET).")
    catalog_uri: str | None = Field(default=None, description="Iceberg catalog (DP_CATALOG_URI).")

    _settings: Settings | None = PrivateAttr(default=None)

    @classmethod
    def from_environment(cls) -> SettingsResource:
        """Unpinned; the secret-bearing fields are `dg.EnvVar` where their variable is set."""
        return cls(**env_bound(Settings, SECRET_FIELDS))

    @classmethod
    def from_settings(cls, settings: Settings) -> SettingsResource:
        """Pin every value of `settings` (tests, the demo runner)."""
        return cls(
            home=str(settings.home),
            s3_endpoint=settings.endpoint,
            s3_access_key=settings.access_key,
            s3_secret_key=settings.secret_key,
            bucket=settings.bucket,
            catalog_uri=settings.catalog_url,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()

    def get_settings(self) -> Settings:
        """This run's settings (read when the run started; outside a run, read now)."""
        return self._settings if self._settings is not None else self._load()

    def _load(self) -> Settings:
        return load_settings(**pinned(self))
