"""The one writer of the gradebook: grades from an executed notebook, with nbgrader's own code.

For each result the coordinator does what the second half of ``nbgrader autograde`` does: make
sure the student and the submission exist (with the submission time from ``timestamp.txt``), put
the executed notebook in ``autograded/``, then run the steps of the course's autograde pipeline
that write grades (nbgrader's ``SaveAutoGrades`` and ``AssignLatePenalties``,
:func:`autograder.batch.pipeline.recorded_steps`) on it against the gradebook. Workers leave those
steps out and never write it, so grades are written once, SQLite never sees two writers and
PostgreSQL is only a different ``db_url``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.authoring.course import DEFAULT_COURSE_ID
from autograder.batch.atomic import write_atomic
from autograder.batch.pipeline import recorded_steps
from autograder.batch.results import SubmissionScore, read_submission


def course_config(course_root: Path) -> Config:
    """The course's ``nbgrader_config.py`` as a traitlets :class:`Config`."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()


def submission_time(folder: Path):
    """The submission time nbgrader would read from ``folder/timestamp.txt`` (None if absent)."""
    stamp = folder / "timestamp.txt"
    if not stamp.is_file():
        return None
    text = stamp.read_text(encoding="utf-8", errors="replace").strip()
    return parse_utc(text) if text else None


class Recorder:
    """Writes grades of one course into its gradebook at ``db_url``."""

    def __init__(self, course_root: Path, db_url: str, config: Config | None = None) -> None:
        self.course_root = course_root
        self.db_url = db_url
        self.config = config if config is not None else course_config(course_root)
        self.course_id = str(self.config.get("CourseDirectory", {}).get("course_id") or DEFAULT_COURSE_ID)
        self.steps = recorded_steps(self.config)

    def record(self, student: str, assignment: str, notebook: bytes, *,
               flagged: bool = False) -> SubmissionScore:
        """Record the grades of ``student``'s executed ``assignment`` notebook; return them as read
        back from the gradebook. ``flagged`` sets nbgrader's own review flag on the submission."""
        submitted = self.course_root / "submitted" / student / assignment
        with Gradebook(self.db_url, self.course_id) as gb:
            gb.update_or_create_student(student)
            timestamp = submission_time(submitted)
            if timestamp is not None:
                gb.update_or_create_submission(assignment, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(assignment, student)
        autograded = self.course_root / "autograded" / student / assignment
        write_atomic(autograded / f"{assignment}.ipynb", notebook)
        # nbgrader's release_feedback reads both beside the graded notebook.
        for name in ("timestamp.txt", "submission_secret.txt"):
            if (submitted / name).is_file():
                write_atomic(autograded / name, (submitted / name).read_bytes())
        nb = nbformat.reads(notebook.decode("utf-8"), as_version=nbformat.NO_CONVERT)
        resources = {"nbgrader": {"db_url": self.db_url, "assignment": assignment,
                                  "notebook": assignment, "student": student}}
        for preprocessor in self.steps:
            nb, resources = preprocessor(config=self.config).preprocess(nb, resources)
        self.flag(student, assignment, flagged)
        return read_submission(self.course_root, assignment, student, url=self.db_url)

    def flag(self, student: str, assignment: str, flagged: bool = True) -> None:
        """Set (or clear) nbgrader's own review flag on ``student``'s recorded ``assignment``
        notebook: at recording, and for a flag found once the whole class was graded."""
        with Gradebook(self.db_url, self.course_id) as gb:
            gb.find_submission_notebook(assignment, assignment, student).flagged = flagged
            gb.db.commit()
