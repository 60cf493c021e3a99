"""From an upload's bytes to typed, validated rows: read once, parse once, validate once."""

from data_platform.core.ingest.convert import RESCUED
from data_platform.core.ingest.formats import UploadFormat, upload_format, what_it_looks_like
from data_platform.core.ingest.pipeline import (
    INGESTED_AT,
    SOURCE_ETAG,
    SOURCE_KEY,
    Ingestion,
    LayerRows,
    Upload,
    Verdict,
    layer_frames,
    with_record_id,
)
from data_platform.core.ingest.read import SOURCE_ROW

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
