"""Due dates, lateness and the cut-off.

The assignments open for submission are those the gradebook defines (the service defines the
released ones at start). The due date is nbgrader's own, in the gradebook (``nbgrader db assignment add ps1
--duedate=...``). A late submission is graded, and nbgrader's ``AssignLatePenalties`` (run by
the recorder) gives it the course's late penalty; after the service's cut-off it is refused.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from nbgrader.api import Gradebook, MissingEntry

from autograder.authoring import course as courses
from autograder.serve.settings import Cutoff


@dataclass(frozen=True)
class Deadline:
    """An assignment open for submission, and its dates."""

    assignment: str
    """The assignment id."""
    title: str
    """Its title."""
    due: datetime | None
    """The due date (UTC), None when it has none."""
    cutoff: datetime | None
    """After this (UTC), submissions are refused; None: never."""

    def late_seconds(self, moment: datetime) -> float:
        """How late a submission at ``moment`` is (0 when on time)."""
        if self.due is None:
            return 0.0
        return max(0.0, (moment - self.due).total_seconds())

    def refusal(self, moment: datetime) -> str | None:
        """Why a submission at ``moment`` is refused, or None when it is taken."""
        if self.cutoff is None or moment <= self.cutoff:
            return None
        due = f" (due {stamp(self.due)})" if self.due else ""
        return (f"{self.assignment}: submissions closed at {stamp(self.cutoff)}{due}; this one "
                f"came at {stamp(moment)}. Nothing was queued: ask your instructor if you need an "
                f"extension.")


def stamp(moment: datetime) -> str:
    """A time as pages show it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float) -> str:
    """``seconds`` in words: ``2 d 3 h``, ``5 h 10 min``, ``4 min``, ``12 s``.

    >>> duration(2 * 86400 + 3 * 3600), duration(310 * 60), duration(12.4)
    ('2 d 3 h', '5 h 10 min', '12 s')
    """
    seconds = round(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


class Deadlines:
    """The assignments the gradebook defines, with their due dates, read at most every
    ``refresh`` seconds (an instructor may change a due date while the service runs)."""

    def __init__(self, db_url: str, cutoff: Cutoff | None, refresh: float = 30.0) -> None:
        self.db_url = db_url
        self.cutoff = cutoff
        self.refresh = refresh
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._open: dict[str, Deadline] = {}

    def open(self) -> dict[str, Deadline]:
        """The assignments taking submissions, in the course's order, by id."""
        with self._lock:
            if time.monotonic() - self._read_at > self.refresh:
                self._open = self._read()
                self._read_at = time.monotonic()
            return dict(self._open)

    def get(self, assignment_id: str) -> Deadline | None:
        """The assignment ``assignment_id`` if it takes submissions."""
        return self.open().get(assignment_id)

    def _read(self) -> dict[str, Deadline]:
        found: dict[str, Deadline] = {}
        course = courses.current()
        with Gradebook(self.db_url, course.id) as gb:
            for assignment_id in course.ids:
                try:
                    record = gb.find_assignment(assignment_id)
                except MissingEntry:
                    continue
                if not record.notebooks:
                    continue
                due = record.duedate.replace(tzinfo=UTC) if record.duedate else None
                found[assignment_id] = Deadline(
                    assignment_id, course.assignment(assignment_id).title, due,
                    self.cutoff.moment(due) if self.cutoff else None)
        return found


def sets_late_penalty(config) -> bool:
    """Whether the course's nbgrader configuration takes points off late submissions: a
    ``c.LateSubmissionPlugin.penalty_method`` other than nbgrader's default ``none``, or a plugin
    of its own (``c.AssignLatePenalties.plugin_class``)."""
    method = config.get("LateSubmissionPlugin", {}).get("penalty_method", "none")
    plugin = config.get("AssignLatePenalties", {}).get("plugin_class")
    return bool(plugin) or str(method or "none").lower() != "none"


def late_penalty(db_url: str, student: str, assignment_id: str) -> tuple[float, float]:
    """The gradebook's lateness (seconds) and late penalty (points) of ``student``'s recorded
    submission of ``assignment_id``."""
    with Gradebook(db_url, courses.current().id) as gb:
        try:
            submission = gb.find_submission(assignment_id, student)
        except MissingEntry:
            return 0.0, 0.0
        return float(submission.total_seconds_late or 0.0), float(submission.late_submission_penalty or 0.0)
