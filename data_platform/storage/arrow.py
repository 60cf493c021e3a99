"""Arrow's S3 filesystem on the store (benchmarks, exports, training streams), with its
retries (also the Iceberg tables' FileIO's, by dotted name).

Apart from `client.py` and `retry.py` so that the store's own client (`data-platform
objects`) does not import pyarrow (~60 MB, a third of a second) to talk to S3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pyarrow import fs
from pyarrow.fs import AwsDefaultS3RetryStrategy

if TYPE_CHECKING:
    from data_platform.settings import Settings

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


def arrow_s3_options(settings: Settings) -> dict[str, Any]:
    """`pyarrow.fs.S3FileSystem`'s arguments for the store."""
    return {
        "endpoint_override": settings.endpoint,
        "access_key": settings.access_key,
        "secret_key": settings.secret_key,
        "region": settings.s3_region,
        "scheme": urlparse(settings.endpoint).scheme,
    }


def arrow_filesystem(settings: Settings) -> Any:
    """Arrow's S3 filesystem on the store, with the platform's retries."""
    return fs.S3FileSystem(**arrow_s3_options(settings), retry_strategy=ArrowRetryStrategy())
