"""A batch's profiles judged for drift, before anything is committed.

Each upload of a batch is compared, in the batch's order, with the contract's reference:
`previous` is every training upload published before it (the stored profiles, merged once,
then each of the batch's published training uploads merged in as it passes), a tag is
the uploads staged held at that tag. Uploads the contract's drift settings block are
refused like invalid ones, with the same message the `drift` check shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from data_platform.contracts import Contract
from data_platform.contracts.monitoring import TRAINING
from data_platform.ingest.problems import Problem
from data_platform.lakehouse import Lakehouse
from data_platform.profiles.drift import DriftReport, compare
from data_platform.profiles.plot import drift_plot
from data_platform.profiles.profile import Profile
from data_platform.profiles.reference import PREVIOUS, Reference, reference


@dataclass
class Judged:
    """An upload's drift against its reference, and whether it is refused for it."""

    report: DriftReport
    refused: bool
    plot: bytes | None

    def problems(self) -> list[Problem]:
        """The findings as an upload's problems (its quarantine report and message)."""
        return [
            Problem(f"drift against {self.report.reference}: {m.reading()}", column=m.column)
            for m in self.report.findings
        ]


@dataclass(frozen=True)
class Candidate:
    partition: str
    environment: str
    profile: Profile


def batch_reference(
    contract: Contract, lake: Lakehouse, partitions: list[str], log: Callable[[str], None]
) -> Reference:
    """What a batch is compared with, less the batch's own uploads (read while the batch's
    uploads are; a tag that does not exist is said, and nothing is compared)."""
    ref = contract.drift.reference
    try:
        return reference(lake, contract, ref, exclude=set(partitions))
    except LookupError as exc:
        log(f"drift: reference {ref!r} not found ({exc}); uploads not compared")
        return Reference(Profile(), f"tag {ref} (not found)")


def judge_batch(
    contract: Contract, base: Reference, candidates: list[Candidate]
) -> dict[str, Judged]:
    """Each candidate's drift verdict, in order (earlier ones join `previous`'s reference)."""
    previous = contract.drift.reference == PREVIOUS
    running = base.profile
    earlier = running.uploads
    judged: dict[str, Judged] = {}
    for candidate in candidates:
        described = f"the {earlier:,} earlier upload(s)" if previous else base.described
        report = compare(candidate.profile, running, contract, described, candidate.environment)
        refused = report.blocks(contract.drift.blocking)
        plot = drift_plot(report, candidate.profile, running) if report.drifted else None
        judged[candidate.partition] = Judged(report, refused, plot)
        if previous and not refused and candidate.environment == TRAINING:
            running.merge(candidate.profile)
            earlier += 1
    return judged
