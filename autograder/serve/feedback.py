"""From a graded notebook to the student: the gradebook, nbgrader's feedback, and its release.

For one submission, in this order (each step reads what the one before wrote):

1. its files go to ``submitted/<student>/<assignment>/`` (the recorder reads the submission time
   there, and nbgrader's own tools find the submission where they expect it);
2. the batch grader's :class:`~autograder.batch.record.Recorder` records the executed notebook:
   nbgrader's ``SaveAutoGrades`` and ``AssignLatePenalties``;
3. the exchange's submission secret goes to ``autograded/`` beside it, so that nbgrader's
   ``generate_feedback`` carries it to ``feedback/`` and ``release_feedback`` files the page under
   the hash that the student's ``nbgrader fetch_feedback`` looks for;
4. ``generate_feedback`` and, for an exchange submission, ``release_feedback``.

nbgrader's commands run through its own Python API (:class:`nbgrader.apps.NbGraderAPI`, what its
formgrader uses) in this process: a ``nbgrader generate_feedback`` process costs about 8 s here,
most of it starting Python and nbgrader; the same conversion in process takes 0.4 s.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from autograder.batch.atomic import write_atomic
from autograder.batch.record import Recorder
from autograder.batch.results import SubmissionScore
from autograder.batch.review import cells

#: The file of the exchange's submission secret.
SECRET_FILE = "submission_secret.txt"


class FeedbackError(RuntimeError):
    """nbgrader could not make or release the feedback; the message holds its log's end."""


def test_messages(notebook: bytes) -> dict[str, str]:
    """Per test cell (graded, not an answer), the message of each error it raised, as the feedback
    shows it: ``<ExceptionName>: <message>``, never the traceback (which quotes test code)."""
    nb = nbformat.reads(notebook.decode("utf-8"), as_version=4)
    found: dict[str, str] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = cells.grade_id(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution") or not grade_id:
            continue
        errors = [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}"
                  for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            found[grade_id] = "\n".join(errors)
    return found


def _api(config: Config) -> NbGraderAPI:
    """nbgrader's API for ``config``. Making one lists the exchange, which logs a CRITICAL line
    when the exchange does not exist yet (nothing released); that is no error here."""
    quiet = logging.getLogger("traitlets")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)
    try:
        return NbGraderAPI(config=config)
    finally:
        quiet.setLevel(level)


class Publisher:
    """Records graded submissions of one course and releases their feedback."""

    def __init__(self, course_root: Path, db_url: str, config: Config) -> None:
        self.course_root = course_root
        self.db_url = db_url
        self.config = config
        self.recorder = Recorder(course_root, db_url, config)
        self.api = _api(self._config(course_root))

    def _config(self, root: Path) -> Config:
        config = copy.deepcopy(self.config)
        config.CourseDirectory.root = str(root)
        config.CourseDirectory.db_url = self.db_url
        return config

    def place(self, student: str, assignment: str, files: Mapping[str, bytes]) -> Path:
        """Write a submission's files to ``submitted/<student>/<assignment>/``, in place of what
        was there; return the folder."""
        submitted = (self.course_root / "submitted").resolve()
        folder = self.course_root / "submitted" / student / assignment
        if not folder.resolve().is_relative_to(submitted):
            raise ValueError(f"student {student!r}: expected a folder inside {submitted}, got "
                             f"{folder.resolve()}.")
        if folder.is_dir():
            for old in folder.iterdir():
                if old.is_file() and old.name not in files:
                    old.unlink()
        for name, data in files.items():
            target = (folder / name).resolve()
            if not target.is_relative_to(folder.resolve()):
                raise ValueError(f"file {name!r}: expected a name inside the submission, got a path.")
            write_atomic(target, data)
        return folder

    def record(self, student: str, assignment: str, files: Mapping[str, bytes], notebook: bytes,
               *, flagged: bool) -> SubmissionScore:
        """Place the submission and record its executed ``notebook`` in the gradebook."""
        self.place(student, assignment, files)
        return self.recorder.record(student, assignment, notebook, flagged=flagged)

    def feedback(self, student: str, assignment: str, secret: str | None) -> bytes:
        """nbgrader's feedback page of what is recorded for ``student``'s ``assignment``;
        released to the exchange under ``secret`` when there is one."""
        autograded = self.course_root / "autograded" / student / assignment
        if secret:
            write_atomic(autograded / SECRET_FILE, secret)
        else:
            (autograded / SECRET_FILE).unlink(missing_ok=True)
        self._check("generate_feedback", self.api.generate_feedback(assignment, student, force=True))
        page = self.course_root / "feedback" / student / assignment / f"{assignment}.html"
        if not page.is_file():
            raise FeedbackError(f"generate_feedback {assignment} --student {student}: expected "
                                f"{page}, got no such file.")
        if secret:
            self._check("release_feedback", self.api.release_feedback(assignment, student))
        return page.read_bytes()

    def release_notice(self, student: str, assignment: str, timestamp: str, secret: str,
                       html: str) -> None:
        """Release ``html`` as the feedback of an exchange submission that was not graded (it was
        refused), so that ``nbgrader fetch_feedback`` shows the student why."""
        with tempfile.TemporaryDirectory(prefix="cnnkit-notice-") as tmp:
            folder = Path(tmp) / "feedback" / student / assignment
            folder.mkdir(parents=True)
            (folder / f"{assignment}.html").write_text(html, encoding="utf-8")
            (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
            (folder / SECRET_FILE).write_text(secret, encoding="utf-8")
            api = _api(self._config(Path(tmp)))
            self._check("release_feedback", api.release_feedback(assignment, student))

    @staticmethod
    def _check(command: str, result: dict) -> None:
        if not result.get("success"):
            tail = "\n".join((result.get("log") or result.get("error") or "").strip().splitlines()[-8:])
            raise FeedbackError(f"nbgrader {command}: expected success, got a failure. Its log "
                                f"ends:\n{tail}")


def tests_with_messages(score: SubmissionScore, notebook: bytes) -> list[dict]:
    """The per-test scores of a recorded submission, each with its failure's message."""
    messages = test_messages(notebook)
    return [{"grade_id": t.grade_id, "score": t.score, "max_score": t.max_score,
             "message": messages.get(t.grade_id, "") if t.score < t.max_score else "",
             "manual": t.needs_manual_grade} for t in score.tests]
