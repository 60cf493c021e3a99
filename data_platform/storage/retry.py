"""Bounded retries with exponential backoff for transient store errors.

The SDK's own urllib3 retries are switched off (``http_client``), so this module is the
one place that decides: a transient error (connection refused or reset, timeout, HTTP
5xx, ``SlowDown``) is retried at most ``attempts`` times and never past ``deadline_s``;
anything else (NotFound, AccessDenied...) fails at once.

Arrow's S3 filesystems (the Iceberg tables' FileIO, the benchmarks, exports) retry in the
AWS SDK under them; ``arrow_retry.ArrowRetryStrategy`` gives them the same patience.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import certifi
import urllib3
from minio.error import InvalidResponseError, S3Error, ServerError

from data_platform.settings import ca_certs_file
from data_platform.storage.errors import Unavailable

T = TypeVar("T")

_TRANSIENT_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "OperationAborted",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure.

    Attributes:
        attempts: Total tries, the first included (1 disables retrying).
        base_delay_s: Wait before the second try; doubled after each failure.
        max_delay_s: Cap on one wait.
        deadline_s: No new try starts after this many seconds from the first.
        connect_timeout_s: TCP connect timeout of each try.
        read_timeout_s: Socket read timeout of each try.
    """

    attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 4.0
    deadline_s: float = 30.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be >= 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.deadline_s <= 0:
            raise ValueError("RetryPolicy delays must be >= 0 and deadline_s > 0")

    def delay(self, failures: int) -> float:
        """The wait after `failures` failed tries: full jitter under a capped exponential."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (failures - 1)))
        return random.uniform(ceiling / 2, ceiling)


def is_transient(exc: BaseException) -> bool:
    """True for errors worth another try: transport failures, 5xx and throttling."""
    if isinstance(exc, S3Error):
        return exc.code in _TRANSIENT_CODES
    if isinstance(exc, ServerError):
        return exc.status_code >= 500 or exc.status_code == 429
    if isinstance(exc, InvalidResponseError):
        return "Response code: 5" in str(exc)
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    bucket: str | None = None,
    key: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `fn`, retrying transient errors under `policy`.

    Args:
        fn: The request; called again from scratch on each try.
        policy: Bounds on tries and time.
        what: Names the operation in the final error ("GET", "list"...).
        bucket: For the error message.
        key: For the error message.
        sleep: Injected for tests of the schedule; `time.sleep` otherwise.

    Returns:
        What `fn` returned.

    Raises:
        Unavailable: A transient error persisted through every allowed try.
        Exception: A non-transient error, unchanged, on its first occurrence.
    """
    start = time.monotonic()
    tries = 0
    while True:
        tries += 1
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            elapsed = time.monotonic() - start
            wait = policy.delay(tries)
            if tries >= policy.attempts or elapsed + wait > policy.deadline_s:
                raise Unavailable(
                    f"{what} failed: gave up after {tries} attempt(s) in {elapsed:.1f}s "
                    f"(last error: {type(exc).__name__}: {exc})",
                    bucket=bucket,
                    key=key,
                ) from exc
            sleep(wait)


def http_client(policy: RetryPolicy) -> urllib3.PoolManager:
    """A urllib3 pool for the SDK with its own retries off, so `policy` alone decides."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=policy.connect_timeout_s, read=policy.read_timeout_s),
        maxsize=10,
        retries=False,
        cert_reqs="CERT_REQUIRED",
        # The SDK's own default honours SSL_CERT_FILE; keep that for private CAs.
        ca_certs=ca_certs_file() or certifi.where(),
    )
