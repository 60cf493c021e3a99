"""From an upload's bytes to typed, validated rows: read once, parse once, validate once."""

from data_platform.contracts.columns import (
    INGESTED_AT,
    RESCUED,
    SOURCE_ETAG,
    SOURCE_KEY,
    SOURCE_ROW,
)
from data_platform.ingest.formats import UploadFormat, upload_format, what_it_looks_like
from data_platform.ingest.pipeline import (
    Ingestion,
    LayerRows,
    Upload,
    Verdict,
    layer_frames,
    with_record_id,
)

__all__ = [
    "INGESTED_AT",
    "RESCUED",
    "SOURCE_ETAG",
    "SOURCE_KEY",
    "SOURCE_ROW",
    "Ingestion",
    "LayerRows",
    "Upload",
    "UploadFormat",
    "Verdict",
    "layer_frames",
    "upload_format",
    "what_it_looks_like",
    "with_record_id",
]
