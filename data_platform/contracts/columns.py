"""The columns the platform adds to every dataset's tables: one name per concept.

A contract's own columns may not start with `_`; these do. The same names are used in
the Iceberg tables, the vector store, labeling tasks and training exports.
"""

from __future__ import annotations

from collections.abc import Iterable

SOURCE_KEY = "_source_key"  # the upload's key under landing/<dataset>/: the partition
SOURCE_ETAG = "_source_etag"  # the ETag of the upload version ingested
SOURCE_ROW = "_source_row"  # 1-based position among the upload's data rows
INGESTED_AT = "_ingested_at"  # when the upload was ingested (UTC)
RESCUED = "_rescued_data"  # raw: JSON of the values that did not fit the contract
RECORD_ID = "_record_id"  # derived when the key is not exactly one column
TEXT = "_text"  # the text columns joined, when there are several
VALID_FROM = "_valid_from"  # history of an upsert dataset: when a row version became current
DELETED = "_deleted"  # history of an upsert dataset: a version that deletes its key
VALID_TO = "_valid_to"  # ... and when a later version (or a delete) replaced it (derived on read)
STAGED_SNAPSHOT_ID = "_staged_snapshot_id"  # the staged.<dataset> snapshot a row was derived from

# Names that earlier versions gave these columns in the vector store, the embedded and
# labeled tables and labeling tasks (never in raw/staged/transformed, where a contract's
# own column may carry such a name).
FORMER_NAMES = {
    "source_key": SOURCE_KEY,
    "snapshot_id": STAGED_SNAPSHOT_ID,
    "staged_snapshot_id": STAGED_SNAPSHOT_ID,
}


def former_renames(names: Iterable[str]) -> dict[str, str]:
    """Former name -> current name, for each former name in `names` whose current one is not."""
    present = set(names)
    renames: dict[str, str] = {}
    for former, current in FORMER_NAMES.items():
        if former in present and current not in present and current not in renames.values():
            renames[former] = current
    return renames
