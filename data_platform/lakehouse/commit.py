"""Committing to Iceberg: one snapshot per write, retried on conflict, cost bounded.

Three things every write shares live here:

- `retrying`: a commit that loses a race to another writer (`CommitFailedException`, or a
  validation that found the other writer's files) is re-done from a fresh load of the
  table, with exponential backoff and full jitter, a bounded number of times. Eight
  writers on one table then all land (pyiceberg's own 4 quick retries did not).
- `Transaction`: pyiceberg 0.12 deep-copies the whole table metadata (every snapshot)
  each time a transaction's `table_metadata` is read, 14 times per commit; with hundreds
  of snapshots that is most of a commit's time. Ours computes it once per change, and not
  at all before the first (the table's own metadata is returned: its models are frozen).
- `trim_history`: the metadata of a table written once per upload grows by a snapshot per
  upload, and every commit reads and writes all of it. Past `keep * 5/4` snapshots, the
  oldest that no tag or branch names are expired down to `keep`, so a commit costs the
  same at the 10,000th upload as at the 10th. Tags (`data-platform snapshot tag`) are
  how a point in history is kept for good.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.table import Table
from pyiceberg.table import Transaction as _PyIcebergTransaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import update_table_metadata

T = TypeVar("T")
# lost a race: the catalog moved on, or a concurrent commit added files our filter matches
CONFLICTS = (CommitFailedException, ValidationException)


@dataclass(frozen=True)
class CommitPolicy:
    """Bounds on re-doing a commit that lost a race, and on the history kept."""

    attempts: int = 12
    base_delay_s: float = 0.05
    max_delay_s: float = 2.0
    keep_snapshots: int = 50

    def delay(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^failures)]."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**failures))


class Transaction(_PyIcebergTransaction):
    """pyiceberg's transaction, computing `table_metadata` once per staged change."""

    _memo: tuple[tuple[int, int], TableMetadata] | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        if not self._updates:  # nothing staged: the table's own metadata (frozen models)
            return self._table.metadata
        key = (id(self._table.metadata), len(self._updates))
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, update_table_metadata(self._table.metadata, self._updates))
        return self._memo[1]


def retrying(
    load: Callable[[], Table],
    attempt: Callable[[Table], T],
    policy: CommitPolicy,
    sleep: Callable[[float], None] = time.sleep,
    first: Table | None = None,
) -> T:
    """`attempt(table)` until it commits, at most `attempts` times, each on a fresh load.

    `first`, a table the caller has just loaded, serves the first attempt: a stale one only
    costs a conflict (every snapshot commit asserts the branch head it started from).
    """
    failures = 0
    while True:
        try:
            table = first if first is not None else load()
            first = None
            return attempt(table)
        except CONFLICTS:
            failures += 1
            if failures >= policy.attempts:
                raise
            sleep(policy.delay(failures))


def trim_history(table: Table, keep: int) -> int:
    """Expire the oldest unnamed snapshots once there are more than keep * 5/4; returns how many."""
    snapshots = table.metadata.snapshots
    if keep <= 0 or len(snapshots) <= keep + keep // 4:
        return 0
    named = {ref.snapshot_id for ref in table.metadata.refs.values()}
    newest = sorted(snapshots, key=lambda s: s.timestamp_ms, reverse=True)[:keep]
    keep_ids = named | {s.snapshot_id for s in newest}
    doomed = [s.snapshot_id for s in snapshots if s.snapshot_id not in keep_ids]
    if not doomed:
        return 0
    try:
        table.maintenance.expire_snapshots().by_ids(doomed).commit()
    except CONFLICTS:
        return 0  # another writer moved on; the next write trims
    except ValueError as exc:  # pyiceberg's retry found them gone: another writer trimmed
        if "does not exist" not in str(exc):
            raise
        return 0
    return len(doomed)


def snapshot_facts(table: Table, snapshot_id: int | None) -> dict[str, Any]:
    """Total (live) rows of the table at `snapshot_id`, from the snapshot summary: its
    records less the rows its position-delete files remove."""
    snapshot = table.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    summary = snapshot.summary if snapshot else None
    if not summary:
        return {"table_rows": 0}
    records = int(summary.get("total-records", 0))
    return {"table_rows": records - int(summary.get("total-position-deletes", 0))}
