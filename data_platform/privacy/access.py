"""Access by layer: what the analyst identity may read.

What arrived is kept as it arrived: the uploads in landing, the archive and quarantine, and
raw's table files hold personal values in clear. From staged on they are de-identified (the
contract's `pii:`). The `analyst` identity reads the bucket but is refused those objects:
on the embedded store by a bucket policy (SeaweedFS evaluates it on every request; its
identities' own actions scope to a bucket, not a prefix), on MinIO by the user policy the
setup scripts attach (`infra/local/minio-setup.sh`, the Kubernetes setup job). The query
commands refuse the raw layer to that identity before they read anything, with a message
that says why and what to read instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ANALYST = "analyst"
RESTRICTED_LAYERS = ("raw",)


class LayerRefused(PermissionError):
    """The identity in use may not read a layer that holds personal values in clear."""


def restricted_prefixes(
    landing: str, archive: str, quarantine: str, warehouse: str = "warehouse/"
) -> tuple[str, ...]:
    """The key prefixes that hold uploads or rows as they arrived."""
    layers = tuple(f"{warehouse.rstrip('/')}/{layer}/" for layer in RESTRICTED_LAYERS)
    return (landing, archive, quarantine, *layers)


def analyst_policy(bucket: str, prefixes: Iterable[str]) -> dict[str, Any]:
    """An S3 bucket policy refusing the analyst identity every object under `prefixes`
    (reads, and the listing of those prefixes)."""
    objects = [f"arn:aws:s3:::{bucket}/{p.rstrip('/')}/*" for p in prefixes]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AnalystNotRaw",
                "Effect": "Deny",
                "Principal": {"AWS": [f"arn:aws:iam::*:user/{ANALYST}"]},
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                "Resource": objects,
            },
        ],
    }


def check_tables(identity: str, tables: Iterable[str]) -> None:
    """Raise `LayerRefused` if `identity` may not read one of `tables` (`layer.name`)."""
    if identity != ANALYST:
        return
    for table in tables:
        layer, _, name = table.partition(".")
        if layer in RESTRICTED_LAYERS:
            raise LayerRefused(
                f"{table}: the {ANALYST} identity (DP_IDENTITY={ANALYST}) may not read the "
                f"{layer} layer: it holds uploads as they arrived, personal values in clear. "
                f"Query staged.{name} or a later layer (personal columns de-identified)."
            )
