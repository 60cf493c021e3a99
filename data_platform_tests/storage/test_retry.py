"""Bounded retries: a server that is really down (a closed port) is given up on, in time."""

from __future__ import annotations

import io
import time

import pytest
import urllib3
from minio.error import S3Error

from data_platform.settings import Settings
from data_platform.storage import NotFound, ObjectStore, RetryPolicy, Unavailable
from data_platform.storage.retry import call_with_retry, is_transient

FAST = RetryPolicy(attempts=3, base_delay_s=0.1, max_delay_s=0.2, deadline_s=5.0)


def test_a_down_server_is_given_up_on_after_n_tries(down_settings: Settings):
    store = ObjectStore.from_settings(down_settings, retry=FAST)
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"gave up after 3 attempt\(s\)") as gave_up:
        store.get_bytes("raw/x.csv")
    elapsed = time.monotonic() - started
    message = str(gave_up.value)
    assert "Connection refused" in message
    assert f"port={down_settings.endpoint.rsplit(':', 1)[1]}" in message  # names the endpoint
    assert "s3://lake/raw/x.csv" in message
    # two backoff waits of at least 0.05 s and 0.1 s happened, and not much more
    assert 0.15 <= elapsed < 2.0


def test_every_kind_of_call_is_bounded(down_settings: Settings):
    store = ObjectStore.from_settings(down_settings, retry=FAST)
    started = time.monotonic()
    for call in (
        lambda: store.put_bytes("k", b"x"),
        lambda: list(store.list("p/")),
        lambda: list(store.list(recursive=False)),
        lambda: store.bucket_exists(),
        lambda: store.delete_many(["a"]),
        lambda: list(store.list_versions()),
    ):
        with pytest.raises(Unavailable, match="gave up after 3"):
            call()
    assert time.monotonic() - started < 6 * 2.0


class OneShotStream(io.RawIOBase):
    """A pipe-like stream: it cannot seek back, so a failed upload cannot be re-sent."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return 0


def test_streams_are_retried_only_when_they_can_seek_back(down_settings: Settings):
    store = ObjectStore.from_settings(down_settings, retry=FAST)
    with pytest.raises(Unavailable, match="gave up after 3 attempt"):
        store.put_stream("s", io.BytesIO(b"seekable"))
    with pytest.raises(Unavailable, match="gave up after 1 attempt"):
        store.put_stream("s", OneShotStream())


def test_the_deadline_bounds_time_whatever_the_attempts(down_settings: Settings):
    patient = RetryPolicy(attempts=1000, base_delay_s=0.2, max_delay_s=0.2, deadline_s=1.0)
    store = ObjectStore.from_settings(down_settings, retry=patient)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="gave up after"):
        store.stat("k")
    assert time.monotonic() - started < 1.5


def test_the_default_policy_gives_up_within_seconds(down_settings: Settings):
    started = time.monotonic()
    with pytest.raises(Unavailable, match="gave up after 4 attempt"):
        ObjectStore.from_settings(down_settings).exists("k")
    assert time.monotonic() - started < 5.0


@pytest.mark.integration
def test_permanent_errors_are_not_retried(store: ObjectStore):
    patient = ObjectStore(store.client, store.bucket, retry=RetryPolicy(attempts=50))
    started = time.monotonic()
    with pytest.raises(NotFound):
        patient.get_bytes("missing")
    assert time.monotonic() - started < 1.0


def test_backoff_schedule_doubles_under_the_cap():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        waits = [policy.delay(failures) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)


def test_call_with_retry_counts_tries_and_recovers():
    """A plain function stands in for the request here: only the loop's logic is tested."""
    tries, waits = [], []

    def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise urllib3.exceptions.ProtocolError("connection reset")
        return "ok"

    assert call_with_retry(flaky, RetryPolicy(attempts=3), what="GET", sleep=waits.append) == "ok"
    assert (len(tries), len(waits)) == (3, 2)


def test_invalid_policies_are_rejected():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(deadline_s=0)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (urllib3.exceptions.NewConnectionError(None, "refused"), True),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "slow"), True),
        (ConnectionResetError(), True),
        (S3Error(None, "SlowDown", "m", "/", "r", "h"), True),
        (S3Error(None, "InternalError", "m", "/", "r", "h"), True),
        (S3Error(None, "NoSuchKey", "m", "/", "r", "h"), False),
        (S3Error(None, "AccessDenied", "m", "/", "r", "h"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_transient(error, transient):
    assert is_transient(error) is transient
