"""The embedded store's access by layer: its bucket policy for the analyst identity."""

from __future__ import annotations

from data_platform.privacy.access import analyst_policy
from data_platform.settings import Settings
from data_platform.storage import ObjectStore


def restrict_analyst(settings: Settings) -> None:
    """Make the bucket (if missing) and set its policy: the analyst identity is refused
    what holds personal values as they arrived (landing, archive, quarantine, raw's
    files). Idempotent; `stack up` sets it on every start."""
    store = ObjectStore.from_settings(settings.model_copy(update={"identity": "admin"}))
    store.ensure_bucket()
    store.set_policy(analyst_policy(settings.bucket, settings.restricted_prefixes))
