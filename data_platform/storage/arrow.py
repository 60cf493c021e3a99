"""Retries for Arrow's S3 filesystems (the Iceberg tables' FileIO, benchmarks, exports).

Apart from `retry.py` so that the store's own client (`data-platform objects`) does not
import pyarrow (~60 MB, a third of a second) to talk to S3 through the minio SDK.
"""

from __future__ import annotations

from pyarrow.fs import AwsDefaultS3RetryStrategy

# The AWS SDK's default strategy waits 25 ms x 2^n before retry n: nine tries wait about
# 6.4 s in all, long enough for a store that restarts on a busy machine (Arrow's own
# default gives up after three tries, about 0.1 s), short enough that a store that is gone
# fails a run quickly (the ingest step's own retry policy then tries again).
ARROW_ATTEMPTS = 9


class ArrowRetryStrategy(AwsDefaultS3RetryStrategy):  # type: ignore[misc]  # pyarrow is untyped
    """The AWS SDK's retries of transient errors (5xx, throttling, connection failures)
    for Arrow's S3 filesystems. It takes no arguments because pyiceberg builds it from its
    dotted name (the catalog's `s3.retry-strategy-impl` property)."""

    def __init__(self) -> None:
        super().__init__(max_attempts=ARROW_ATTEMPTS)
