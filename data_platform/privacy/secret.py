"""The key of the de-identifying HMAC: DP_PII_KEY, else a key file made once (0600).

Changing it changes every hash: staged, transformed and everything after them no longer
join with what was hashed before, so it is a deliberate step (docs/privacy.md): set the new
key, then `data-platform datasets migrate NAME` rebuilds the tables from the archive.
The key is never logged, never in a table, never in metadata.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from data_platform.settings import Settings


def key_file(settings: Settings) -> Path:
    return settings.home_dir / "pii.key"


def pii_key(settings: Settings) -> str:
    """The HMAC key: the settings' (DP_PII_KEY), else the key file, made if there is none."""
    given = settings.pii_key.get_secret_value()
    if given:
        return given
    path = key_file(settings)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(32)
    try:  # made once: a second process racing here reads the first one's
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(made)
    return made
