"""Names shared by every layer's definitions."""

from __future__ import annotations

OWNERS = ["team:data-platform"]
SOURCE_KEY = "_source_key"  # the Iceberg partition column: the upload's key under landing/
