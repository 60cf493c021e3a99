"""Data problems that name the object, the row and the column, and their messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an upload. `row` is 1-based within the file's data rows."""

    reason: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where) + ': ' if where else ''}{self.reason}{value}"


class UploadError(ValueError):
    """An upload that cannot be read at all (empty, wrong encoding, unknown format...)."""

    def __init__(self, source: str, problem: Problem) -> None:
        super().__init__(f"{source}: {problem.describe()}")
        self.source = source
        self.problem = problem


def summarise(
    source: str, problems: list[Problem], limit: int = 10, total: int | None = None
) -> str:
    """One message for a person: the object, then the first `limit` problems.

    `total` counts problems beyond the listed ones (a list is capped; the count is not).
    """
    count = max(total or 0, len(problems))
    if not count:
        return f"{source}: no problems"
    head = "; ".join(p.describe() for p in problems[:limit])
    more = f"; and {count - min(limit, len(problems))} more" if count > limit else ""
    return f"{source}: {count} problem(s): {head}{more}"
