"""What a submission must be before it is queued, and the refusal when it is not.

Each check says what was expected, what came, and what to do, in the kit's one shape; a refused
submission is never queued. In order: the file name (a plain name, no path), the assignment
(open for submission), the notebook (its shape first, so that what follows takes bounded time:
JSON nested at most :data:`MAX_DEPTH` deep with at most :data:`MAX_CONTAINERS` lists and
objects; then the batch intake's own checks: UTF-8, JSON, a notebook nbformat reads, nbgrader
metadata nbgrader can use, and the cells of the chosen assignment), the cut-off, and the attempt
limit.

The student reads these refusals (on the page, in the API's answer, as the feedback of a refused
``nbgrader submit``), so the intake's messages, written for the instructor of a batch ("ask the
student to ..."), are turned to the student (:func:`for_the_student`).
"""

from __future__ import annotations

import re
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


#: The deepest nesting of JSON taken: Jupyter writes notebooks about 6 levels deep; JSON nested
#: hundreds deep makes the parser recurse until Python stops it.
MAX_DEPTH = 64

#: The most JSON lists and objects taken in one notebook (cells, outputs, metadata): the
#: course's notebooks hold a few hundred; checking a notebook takes time in proportion.
MAX_CONTAINERS = 20_000

#: A JSON string, escapes included (what may hold brackets that are no structure).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Every byte but the brackets.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

#: The intake's advice to the instructor of a batch, and the same advice to the student.
_TO_THE_STUDENT = (
    ("ask the student to put their answers into", "put your answers into"),
    ("ask the student to ", ""),
    ("Ask the student to open", "Open"),
    ("Ask the student for the notebook of the assignment, named after it.",
     "Submit the notebook of the assignment, named after it."),
    ("ask for the notebook released here.", "use the notebook released for this course."),
)


def for_the_student(message: str) -> str:
    """An intake refusal with its advice addressed to the student who reads it.

    >>> for_the_student("It was cut short: ask the student to open it in Jupyter, save it, and "
    ...                 "submit it again.")
    'It was cut short: open it in Jupyter, save it, and submit it again.'
    """
    for instructor, student in _TO_THE_STUDENT:
        message = message.replace(instructor, student)
    return message


def check_shape(data: bytes) -> None:
    """:class:`Refusal` (400) for JSON nested deeper than :data:`MAX_DEPTH` or with more than
    :data:`MAX_CONTAINERS` lists and objects, before anything parses it (the parser would recurse
    until Python stops it, and checking tens of thousands of cells takes seconds)."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for bracket in brackets[:2 * MAX_CONTAINERS + 2]:
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise Refusal(400, f"notebook: expected JSON nested at most {MAX_DEPTH} levels deep, "
                               f"as Jupyter writes a notebook, got deeper nesting. It was not "
                               f"saved by Jupyter: open your notebook in Jupyter, save it, and "
                               f"submit it again.")
    opened = brackets.count(b"[") + brackets.count(b"{")
    if opened > MAX_CONTAINERS:
        raise Refusal(400, f"notebook: expected at most {MAX_CONTAINERS} cells, outputs and other "
                           f"JSON lists and objects in all, got {opened}. Delete the cells you do "
                           f"not need and clear the outputs (Kernel > Restart Kernel and Clear All "
                           f"Outputs), save, and submit it again.")


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
        check_shape(data)
        try:
            notebook = intake_notebook.parse(data)
            found = intake_notebook.identify(notebook, self.sources(), assignment_id, expected)
        except intake_notebook.NoCells:
            # Its assignment is the one chosen; nbgrader puts the test cells back (as the batch
            # grader does for such a notebook in submitted/<student>/<assignment>/).
            return
        except intake_notebook.Rejected as exc:
            raise Refusal(400, f"notebook: {for_the_student(str(exc))}") from None
        if found.assignment != assignment_id:
            raise Refusal(400, f"notebook: expected {expected}, {intake_notebook.got_text(found)}. Upload "
                               f"{assignment_id}.ipynb, or choose {found.assignment!r} as the "
                               f"assignment.")


def sizes(limit: int, size: int) -> tuple[str, str]:
    """The "expected at most" and "got" parts of a message about a file of ``size`` bytes over
    ``limit``: in KB, or in bytes when the two would read the same in KB.

    >>> sizes(20 * 2**20, 30 * 2**20)
    ('20480 KB', '30720 KB')
    >>> sizes(20 * 2**20, 20 * 2**20 + 100)
    ('20971520 bytes (20480 KB)', '20971620 bytes')
    """
    if size // 1024 > limit // 1024:
        return f"{limit // 1024} KB", f"{-(-size // 1024)} KB"
    return f"{limit} bytes ({limit // 1024} KB)", f"{size} bytes"


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
