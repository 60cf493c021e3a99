"""`ObjectStoreResource`: the storage client, plus quarantine of bad uploads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg

from data_platform.resources.platform import PlatformSettings
from data_platform.storage import ObjectStore


class ObjectStoreResource(dg.ConfigurableResource):
    """The lake's bucket, through the platform's storage client."""

    platform: PlatformSettings

    def get_client(self) -> ObjectStore:
        return ObjectStore.from_settings(self.platform.get_settings())

    def quarantine(self, key: str, dataset: str, relative_key: str, message: str) -> str:
        """Move `key` under the quarantine prefix with an `.error.json` beside it.

        The copy is made before the original is removed, so the bytes are never lost.
        Returns the quarantined object's key.
        """
        settings = self.platform.get_settings()
        client = self.get_client()
        target = f"{settings.quarantine_prefix.rstrip('/')}/{dataset}/{relative_key}"
        info = client.stat(key)
        report = {
            "source": settings.s3_uri(key),
            "etag": info.etag,
            "quarantined_at": datetime.now(UTC).isoformat(),
            "error": message,
        }
        client.put_bytes(
            f"{target}.error.json",
            json.dumps(report, indent=2).encode(),
            content_type="application/json",
        )
        client.move(key, target)
        return target
