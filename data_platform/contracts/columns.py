"""The columns the platform adds to every dataset's tables: one name per concept.

A contract's own columns may not start with `_`; these do.
"""

SOURCE_KEY = "_source_key"  # the upload's key under landing/<dataset>/: the partition
SOURCE_ETAG = "_source_etag"  # the ETag of the upload version ingested
SOURCE_ROW = "_source_row"  # 1-based position among the upload's data rows
INGESTED_AT = "_ingested_at"  # when the upload was ingested (UTC)
RESCUED = "_rescued_data"  # raw: JSON of the values that did not fit the contract
RECORD_ID = "_record_id"  # derived when the key is not exactly one column
TEXT = "_text"  # the text columns joined, when there are several
