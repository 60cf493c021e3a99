"""The one settings object: where the store is, and how every client talks to it.

Values come from the environment (``DP_*``, see ``.env.example``). When no external S3
endpoint is configured, the endpoint and keys come from the state file that the embedded
stack writes on ``data-platform stack up``. No other module reads endpoint or keys.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CATALOG_NAME = "lakehouse"  # part of every table's key in the SQL catalog: keep it constant


class StackNotRunningError(RuntimeError):
    """No external S3 endpoint is configured and the embedded stack is not up."""


class Settings(BaseSettings):
    """Platform settings, read from ``DP_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DP_", extra="ignore", frozen=True)

    home: Path = Field(
        default=Path(".data_platform"),
        description="Project-local state: embedded stack data, catalog file, Dagster home.",
    )
    s3_endpoint: str = Field(
        default="",
        description="External S3 endpoint (MinIO, AWS). Empty: use the embedded stack.",
    )
    s3_access_key: str = Field(default="", description="Access key for s3_endpoint.")
    s3_secret_key: SecretStr = Field(default=SecretStr(""), description="Secret key.")
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    bucket: str = Field(default="lake", description="Bucket that holds the whole lake.")
    landing_prefix: str = Field(default="landing/", description="Where uploads land.")
    archive_prefix: str = Field(
        default="archive/", description="Where ingested uploads are kept (out of landing)."
    )
    quarantine_prefix: str = Field(default="quarantine/", description="Where bad uploads go.")
    datasets_dir: Path = Field(
        default=Path("datasets"), description="Folder of dataset contracts (<name>.yaml)."
    )
    ingest_batch_rows: int = Field(
        default=100_000, ge=1, description="Rows per batch of an upload streamed from disk."
    )
    ingest_spool_mb: int = Field(
        default=256,
        ge=0,
        description="Uploads larger than this are spooled to local disk and streamed.",
    )
    keep_snapshots: int = Field(
        default=100,
        ge=0,
        description="Untagged snapshots each table keeps (older ones expire on write; 0: all).",
    )
    catalog_uri: str = Field(
        default="",
        description="SQLAlchemy URI of the Iceberg SQL catalog. Empty: SQLite under home.",
    )
    ray_address: str = Field(
        default="",
        description="Ray cluster (host:port) that `executor: ray` runs on, e.g. a KubeRay "
        "head or `data-platform cluster up`'s. Empty: a Ray started in the run's process.",
    )

    @model_validator(mode="after")
    def _check_external(self) -> Settings:
        if self.s3_endpoint and not urlparse(self.s3_endpoint).scheme:
            raise ValueError(
                f"DP_S3_ENDPOINT={self.s3_endpoint!r} needs a scheme, e.g. http://host:9000"
            )
        if self.s3_endpoint and not (self.s3_access_key and self.s3_secret_key.get_secret_value()):
            raise ValueError("DP_S3_ENDPOINT is set: DP_S3_ACCESS_KEY and DP_S3_SECRET_KEY too")
        return self

    # -- where things live -------------------------------------------------------------
    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def spool_dir(self) -> Path:
        """Local scratch space for large uploads being ingested."""
        return self.home_dir / "spool"

    @property
    def stack_dir(self) -> Path:
        return self.home_dir / "stack"

    @property
    def stack_state_file(self) -> Path:
        return self.stack_dir / "state.json"

    @property
    def uses_embedded_stack(self) -> bool:
        return not self.s3_endpoint

    @property
    def warehouse(self) -> str:
        return f"s3://{self.bucket}/warehouse"

    @property
    def catalog_url(self) -> str:
        return self.catalog_uri or f"sqlite:///{self.home_dir / 'catalog.db'}"

    # -- credentials -------------------------------------------------------------------
    @cached_property
    def _connection(self) -> dict[str, str]:
        if self.s3_endpoint:
            return {
                "endpoint": self.s3_endpoint.rstrip("/"),
                "access_key": self.s3_access_key,
                "secret_key": self.s3_secret_key.get_secret_value(),
            }
        try:
            state = json.loads(self.stack_state_file.read_text())
        except FileNotFoundError:
            raise StackNotRunningError(
                f"No S3 store: DP_S3_ENDPOINT is not set and the embedded stack has no state "
                f"at {self.stack_state_file}. Run `data-platform stack up` first."
            ) from None
        return {k: state[k] for k in ("endpoint", "access_key", "secret_key")}

    @property
    def endpoint(self) -> str:
        return self._connection["endpoint"]

    @property
    def access_key(self) -> str:
        return self._connection["access_key"]

    @property
    def secret_key(self) -> str:
        return self._connection["secret_key"]

    @property
    def secure(self) -> bool:
        return urlparse(self.endpoint).scheme == "https"

    @property
    def host(self) -> str:
        return urlparse(self.endpoint).netloc

    # -- what each client needs ----------------------------------------------------------
    def minio_kwargs(self) -> dict[str, Any]:
        return {
            "endpoint": self.host,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "secure": self.secure,
            "region": self.s3_region,
        }

    def boto3_kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": self.s3_region,
        }

    def pyarrow_kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_override": self.endpoint,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region": self.s3_region,
            "scheme": urlparse(self.endpoint).scheme,
        }

    def pyarrow_filesystem(self) -> Any:
        from pyarrow import fs

        return fs.S3FileSystem(**self.pyarrow_kwargs())

    def pyiceberg_properties(self) -> dict[str, str]:
        return {
            "uri": self.catalog_url,
            "warehouse": self.warehouse,
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": self.access_key,
            "s3.secret-access-key": self.secret_key,
            "s3.region": self.s3_region,
        }

    def polars_storage_options(self) -> dict[str, str]:
        return {
            "aws_endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_region": self.s3_region,
            "aws_allow_http": str(not self.secure).lower(),
        }

    def lancedb_storage_options(self) -> dict[str, str]:
        return {
            "aws_endpoint": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_region": self.s3_region,
            "allow_http": str(not self.secure).lower(),
        }

    def duckdb_secret_sql(self, name: str = "lake") -> str:
        return (
            f"CREATE OR REPLACE SECRET {name} (TYPE s3, KEY_ID '{self.access_key}', "
            f"SECRET '{self.secret_key}', REGION '{self.s3_region}', ENDPOINT '{self.host}', "
            f"URL_STYLE 'path', USE_SSL {str(self.secure).lower()})"
        )

    def dvc_remote_config(self) -> dict[str, str]:
        """Keys of a DVC S3 remote; credentials belong in `.dvc/config.local` only."""
        return {
            "endpointurl": self.endpoint,
            "region": self.s3_region,
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
        }

    def as_env(self) -> dict[str, str]:
        """The DP_* variables that make a child process (dagster dev, a script) see this store."""
        return {
            "DP_HOME": str(self.home),
            "DP_S3_ENDPOINT": self.endpoint,
            "DP_S3_ACCESS_KEY": self.access_key,
            "DP_S3_SECRET_KEY": self.secret_key,
            "DP_BUCKET": self.bucket,
        }

    def s3_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key.lstrip('/')}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit values (not None) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v not in (None, "")})
