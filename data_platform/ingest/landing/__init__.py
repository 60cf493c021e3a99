"""The custody of uploads: landing, archive and quarantine prefixes, and what moves between.

An upload lands under `landing/<dataset>/`. Once ingested it moves to `archive/<dataset>/`
(the raw table's rows point at it); if it is refused it moves to
`quarantine/<dataset>/<when>-<etag>/` with an `.error.json` beside it, every version kept.
So the landing prefix only ever holds uploads not yet ingested, and the sensor's cost
follows new uploads, not every upload ever made.
"""

from data_platform.ingest.landing.custody import (
    Custody,
    Quarantined,
    QuarantineEntry,
)
from data_platform.ingest.landing.watch import (
    Batch,
    BatchLimits,
    PendingUpload,
    Plan,
    pending_uploads,
    plan_batches,
)

__all__ = [
    "Batch",
    "BatchLimits",
    "Custody",
    "PendingUpload",
    "Plan",
    "QuarantineEntry",
    "Quarantined",
    "pending_uploads",
    "plan_batches",
]
