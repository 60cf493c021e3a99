"""Dagster's run and step logs (stdout, stderr) kept in the lake's bucket.

dagster-aws's `S3ComputeLogManager`, configured from the platform's settings (endpoint,
keys, region, bucket) rather than from AWS's environment, so the logs of every run land
next to the data they describe, outlive the machine that ran it, and every node of a
deployment (webserver, daemon, run workers) reads the same ones. The instance's
`dagster.yaml` names this class; only the key prefix is configured there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from dagster import Field, StringSource
from dagster._serdes import ConfigurableClassData
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

from data_platform.settings import Settings

DEFAULT_PREFIX = "dagster/compute-logs"


class LakeComputeLogManager(S3ComputeLogManager):
    """`S3ComputeLogManager` on the platform's store: `s3://<bucket>/<prefix>/...`."""

    def __init__(
        self,
        prefix: str = DEFAULT_PREFIX,
        local_dir: str | None = None,
        inst_data: ConfigurableClassData | None = None,
        upload_interval: int | None = None,
        settings: Settings | None = None,
    ) -> None:
        self._settings = settings or Settings()
        self._client: Any = None
        super().__init__(
            bucket=self._settings.bucket,
            local_dir=local_dir or str(self._settings.home_dir / "dagster_home" / "compute_logs"),
            inst_data=inst_data,
            prefix=prefix,
            upload_interval=upload_interval,
            region=self._settings.s3_region,
        )

    @property
    def _s3_session(self) -> Any:
        """The S3 client, made on first use: loading the instance needs no running store."""
        if self._client is None:
            settings = self._settings
            self._client = boto3.client(
                "s3",
                endpoint_url=settings.endpoint,
                aws_access_key_id=settings.access_key,
                aws_secret_access_key=settings.secret_key,
                region_name=settings.s3_region,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
            )
        return self._client

    @_s3_session.setter
    def _s3_session(self, _default: Any) -> None:
        """The parent's client (keys from AWS's variables) is not used: ours is above."""

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {
            "prefix": Field(StringSource, is_required=False, default_value=DEFAULT_PREFIX),
            "local_dir": Field(StringSource, is_required=False),
            "upload_interval": Field(int, is_required=False),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> LakeComputeLogManager:
        return cls(inst_data=inst_data, **config_value)
