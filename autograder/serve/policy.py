"""The queue's policy, as pure functions of plain values: which submission runs next, when a
student may upload again, and which attempt counts for the grade.

Fairness: students are served round-robin. A student with a running job gets no second one;
among the others, the one served longest ago (or never) goes first, with their oldest waiting
submission. So one student's many uploads delay another student's first one by at most the one
job of theirs already running.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The window of the attempt limit.
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Waiting:
    """A submission in the queue."""

    id: int
    """The submission id."""
    student: str
    """Whose it is."""
    received: datetime
    """When it was accepted."""


def next_to_run(waiting: Sequence[Waiting], running_students: Collection[str],
                last_served: Mapping[str, datetime]) -> Waiting | None:
    """The submission to start next, or None when every waiting one belongs to a student whose
    job is running.

    ``last_served`` holds, per student, when their latest job was started; a student not in it
    was never served and comes first. Ties go to the student whose oldest submission waits
    longest.

    >>> from datetime import datetime as t
    >>> queue = [Waiting(1, "ann", t(2025, 1, 1, 9, 0)), Waiting(2, "ann", t(2025, 1, 1, 9, 1)),
    ...          Waiting(3, "bob", t(2025, 1, 1, 9, 2))]
    >>> next_to_run(queue, {"ann"}, {}).id
    3
    >>> next_to_run(queue, set(), {"ann": t(2025, 1, 1, 9, 5)}).id
    3
    >>> next_to_run(queue, set(), {}).id
    1
    """
    oldest: dict[str, Waiting] = {}
    for item in waiting:
        if item.student in running_students:
            continue
        first = oldest.get(item.student)
        if first is None or (item.received, item.id) < (first.received, first.id):
            oldest[item.student] = item
    if not oldest:
        return None

    def turn(student: str) -> tuple:
        served = last_served.get(student)
        return (served is not None, served or oldest[student].received,
                oldest[student].received, oldest[student].id)

    return oldest[min(oldest, key=turn)]


def next_attempt_at(recent: Sequence[datetime], now: datetime, per_hour: int) -> datetime | None:
    """When the next upload is allowed, given the times of the uploads so far (of one student
    and assignment), or None when it is allowed now: at most ``per_hour`` in any hour.

    >>> from datetime import datetime as t
    >>> times = [t(2025, 1, 1, 9, 0), t(2025, 1, 1, 9, 30)]
    >>> next_attempt_at(times, t(2025, 1, 1, 9, 40), 2)
    datetime.datetime(2025, 1, 1, 10, 0)
    >>> next_attempt_at(times, t(2025, 1, 1, 10, 1), 2) is None
    True
    """
    window = sorted(moment for moment in recent if moment > now - HOUR)
    if len(window) < per_hour:
        return None
    return window[len(window) - per_hour] + HOUR


@dataclass(frozen=True)
class Attempt:
    """A graded (or failed) attempt, for :func:`counted`."""

    id: int
    """The submission id."""
    received: datetime
    """When it was accepted."""
    score: float | None
    """Its score after the late penalty; None when it could not be graded."""


def counted(attempts: Sequence[Attempt], rule: str) -> Attempt | None:
    """The attempt that counts for the grade: the latest graded one (``rule="latest"``) or the
    one with the highest score, the later on a tie (``rule="best"``); None when none was graded.

    >>> from datetime import datetime as t
    >>> tries = [Attempt(1, t(2025, 1, 1, 9), 4.0), Attempt(2, t(2025, 1, 1, 10), 3.0),
    ...          Attempt(3, t(2025, 1, 1, 11), None)]
    >>> counted(tries, "latest").id, counted(tries, "best").id
    (2, 1)
    """
    graded = [a for a in attempts if a.score is not None]
    if not graded:
        return None
    if rule == "best":
        return max(graded, key=lambda a: (a.score, a.received, a.id))
    if rule == "latest":
        return max(graded, key=lambda a: (a.received, a.id))
    raise ValueError(f"counts: expected 'latest' or 'best', got {rule!r}.")

