"""The figures of the instructor's page: what waits, what runs, how long a student waits for
feedback, what failed and what needs a person. Read from the queue, never from the gradebook.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from autograder.serve.exports import counted_rows
from autograder.serve.tables import as_utc, now


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` percentile (0-100) of ``values`` by the nearest-rank method; None when
    there are none.

    >>> percentile([1, 2, 3, 4, 100], 50), percentile([1, 2, 3, 4, 100], 95)
    (3, 100)
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 100))
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Times:
    """Median, 95th percentile and maximum of some durations, in seconds."""

    count: int
    median: float | None
    p95: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Times:
        return cls(len(values), percentile(values, 50), percentile(values, 95),
                   max(values) if values else None)


@dataclass(frozen=True)
class Overview:
    """The instructor's page, as data."""

    counts: dict[str, int]
    """Submissions per state."""
    waiting: list = field(default_factory=list)
    """Waiting submissions, oldest first."""
    running: list = field(default_factory=list)
    """Running submissions."""
    waiting_time: Times = Times(0, None, None, None)
    """From acceptance to the start of grading."""
    grading_time: Times = Times(0, None, None, None)
    """From the start of grading to the feedback."""
    feedback_time: Times = Times(0, None, None, None)
    """From acceptance to the feedback, the student's wait."""
    failed: list = field(default_factory=list)
    """Failed submissions that count (no graded attempt of the student's replaces them), newest
    first."""
    failed_replaced: list = field(default_factory=list)
    """Failed submissions that do not count (a graded attempt of the student's does), newest
    first."""
    flagged: list = field(default_factory=list)
    """Submissions that count and have review flags, newest first."""
    refused: list = field(default_factory=list)
    """Exchange folders refused, newest first."""
    since: datetime | None = None
    """The times cover submissions finished since then."""


def overview(rows: Sequence, refused: Sequence = (), window: timedelta = timedelta(days=1),
             rule: str = "latest") -> Overview:
    """The :class:`Overview` of the queue's ``rows`` (without files); the times cover
    submissions finished in the last ``window``. Failures and flags are those of the attempt
    that counts for each student and assignment under ``rule`` (see
    :func:`.exports.counted_rows`), as ``grades.csv`` and the class report hold them."""
    since = now() - window
    counts = {state: 0 for state in ("waiting", "running", "done", "failed", "replaced")}
    waits, gradings, totals = [], [], []
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
        received, claimed, finished = (as_utc(row.received), as_utc(row.claimed_at),
                                       as_utc(row.finished_at))
        if row.state in ("done", "failed") and finished and finished >= since and claimed:
            waits.append((claimed - received).total_seconds())
            gradings.append((finished - claimed).total_seconds())
            totals.append((finished - received).total_seconds())
    counting = counted_rows(rows, rule).values()
    newest_first = sorted(counting, key=lambda r: -r.id)
    counting_ids = {r.id for r in counting}
    return Overview(
        counts=counts,
        waiting=[r for r in rows if r.state == "waiting"],
        running=[r for r in rows if r.state == "running"],
        waiting_time=Times.of(waits), grading_time=Times.of(gradings), feedback_time=Times.of(totals),
        failed=[r for r in newest_first if r.state == "failed"][:100],
        failed_replaced=[r for r in sorted(rows, key=lambda r: -r.id)
                         if r.state == "failed" and r.id not in counting_ids][:100],
        flagged=[r for r in newest_first if json.loads(r.flags or "[]")][:100],
        refused=list(refused)[:100], since=since)
