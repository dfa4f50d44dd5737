"""What a submission must be before it is queued, and the refusal when it is not.

Each check says what was expected, what came, and what to do, in the kit's one shape; a refused
submission is never queued. In order: the file name (a plain name, no path), the assignment
(open for submission), the notebook (the batch intake's own checks: UTF-8, JSON, a notebook
nbformat reads, nbgrader metadata nbgrader can use, and the cells of the chosen assignment), the
cut-off, and the attempt limit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from autograder.batch.intake import notebook as intake_notebook
from autograder.serve import policy
from autograder.serve.deadlines import Deadline, Deadlines, duration, stamp


class Refusal(Exception):
    """Why a submission is not taken: an HTTP status and one sentence (two at most).

    ``status`` is 400 for bad input, 401 not signed in, 403 not allowed, 404 unknown, 413 too
    large, 429 too many; ``retry_after``, the seconds until trying again makes sense (for 429).
    """

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def check_file_name(name: str | None) -> None:
    """A plain file name: no folder in it, no control character."""
    if name is None or not name.strip():
        raise Refusal(400, "file: expected a notebook file (.ipynb), got no file. Choose your "
                           "notebook and upload it again.")
    if any(ch in name for ch in "/\\") or name.strip() in {".", ".."} or any(
            ord(ch) < 32 for ch in name):
        raise Refusal(400, f"file name: expected a plain file name such as images.ipynb, got "
                           f"{name[:80]!r}, which holds a path or a control character. Rename the "
                           f"file and upload it again.")
    if Path(name).suffix.lower() != ".ipynb":
        raise Refusal(400, f"file: expected a notebook (.ipynb), got {name[:80]!r}. In Jupyter, "
                           f"use File > Download to save the notebook as .ipynb.")


def check_assignment(deadlines: Deadlines, assignment_id: str | None) -> Deadline:
    """The assignment, if it takes submissions."""
    offered = deadlines.open()
    if not assignment_id or assignment_id not in offered:
        raise Refusal(404 if assignment_id else 400,
                      f"assignment: expected one of {', '.join(offered) or '(none open)'}, got "
                      f"{(assignment_id or '')[:80]!r}. Pick the assignment from the list.")
    return offered[assignment_id]


class NotebookCheck:
    """The intake's checks of one notebook against the course's source notebooks."""

    def __init__(self, course_root: Path) -> None:
        self.course_root = course_root
        self._sources: dict[str, frozenset[str]] | None = None

    def sources(self) -> dict[str, frozenset[str]]:
        """The grade ids of each assignment's source notebook (read once)."""
        if self._sources is None:
            self._sources = intake_notebook.source_grade_ids(self.course_root, ())
        return self._sources

    def check(self, data: bytes, assignment_id: str) -> None:
        """:class:`Refusal` (400) unless ``data`` is a notebook of ``assignment_id``."""
        expected = intake_notebook.expected_text([assignment_id])
        try:
            notebook = intake_notebook.parse(data)
            found = intake_notebook.identify(notebook, self.sources(), assignment_id, expected)
        except intake_notebook.NoCells:
            # Its assignment is the one chosen; nbgrader puts the test cells back (as the batch
            # grader does for such a notebook in submitted/<student>/<assignment>/).
            return
        except intake_notebook.Rejected as exc:
            raise Refusal(400, f"notebook: {exc}") from None
        if found.assignment != assignment_id:
            raise Refusal(400, f"notebook: expected {expected}, {intake_notebook.got_text(found)}. Upload "
                               f"{assignment_id}.ipynb, or choose {found.assignment!r} as the "
                               f"assignment.")


def check_deadline(deadline: Deadline, moment: datetime) -> None:
    """:class:`Refusal` (403) after the cut-off."""
    reason = deadline.refusal(moment)
    if reason:
        raise Refusal(403, reason)


def check_attempts(recent: list[datetime], moment: datetime, per_hour: int, assignment_id: str) -> None:
    """:class:`Refusal` (429) past the attempt limit, with when the next attempt is allowed."""
    allowed = policy.next_attempt_at(recent, moment, per_hour)
    if allowed is not None:
        wait = (allowed - moment).total_seconds()
        raise Refusal(429, f"attempts: expected at most {per_hour} upload(s) of {assignment_id} "
                           f"per hour, got {per_hour + 1}. Your next attempt is allowed at "
                           f"{stamp(allowed)} (in {duration(wait)}); your earlier ones are "
                           f"graded meanwhile.", retry_after=max(1.0, wait))
