"""``cnnkit check``: grade an assignment's reference exactly as grading will, before release.

``nbgrader validate`` on a source notebook runs its tests in the kernel; grading runs them in the
judge, outside the kernel, from observations (:mod:`autograder.judge`). The two agree for the
idioms the README lists, and this command is the self-check that is grading itself: it copies
the course into a scratch folder, generates the assignment (hidden tests into the gradebook) and
its clean solution, and grades that solution with ``cnnkit grade``'s machinery (the judge, the
sandbox, the budget), then lists each test's points and message. The reference must score full.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from rich.console import Console

from autograder.authoring import build, course
from autograder.authoring.nbgrader_run import run_nbgrader

#: The student id the reference is graded as.
REFERENCE = "reference"


@dataclass(frozen=True)
class TestResult:
    """One test cell of the graded reference."""

    __test__ = False  # not a pytest test class

    grade_id: str
    score: float
    max_score: float
    message: str
    """The test's failure, ``ename: evalue``; empty when it passed."""


@dataclass(frozen=True)
class CheckResult:
    """How the reference of one assignment graded."""

    assignment: str
    status: str
    """The batch grader's status (``graded``, ``failed``...)."""
    reason: str
    """Why the run failed, when it did."""
    tests: tuple[TestResult, ...]

    @property
    def full_marks(self) -> bool:
        """Whether every test gave all its points (and there was at least one)."""
        return bool(self.tests) and all(t.score == t.max_score for t in self.tests)


def _messages(notebook: Path) -> dict[str, str]:
    if not notebook.is_file():
        return {}
    nb = nbformat.read(notebook, as_version=4)
    found = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id and errors:
            found[grade_id] = f"{errors[0].get('ename', '')}: {errors[0].get('evalue', '')}"
    return found


def check(course_root: Path, assignment_id: str, *, budget: str = "cpu",
          console: Console | None = None) -> CheckResult:
    """Grade the reference of ``assignment_id`` (its source with the solutions, hidden tests in
    the gradebook) in a scratch copy of the course, as ``cnnkit grade`` would."""
    from autograder.batch.grade import Settings, grade_class
    from autograder.batch.outcome import Submission

    the_course = course.load(course_root)
    the_course.assignment(assignment_id)
    with tempfile.TemporaryDirectory(prefix="cnnkit-check-") as tmp:
        work = build.make_course(the_course.root, Path(tmp) / "course")
        run_nbgrader(["generate_assignment", assignment_id, "--force"], work)
        run_nbgrader(["generate_solution", assignment_id, "--force"], work)
        notebook = f"{assignment_id}.ipynb"
        submitted = work / "submitted" / REFERENCE / assignment_id / notebook
        submitted.parent.mkdir(parents=True)
        shutil.copyfile(work / "solutions" / assignment_id / notebook, submitted)
        quiet = console or Console(quiet=True)
        result = grade_class(work, [Submission(REFERENCE, assignment_id, submitted,
                                               str(the_course.root / "source" / assignment_id / notebook))],
                             Settings(budget=budget, feedback=False, output=Path(tmp) / "grading"), quiet)
        outcome = result.outcomes[0]
        messages = _messages(work / "autograded" / REFERENCE / assignment_id / notebook)
    tests = tuple(TestResult(t.grade_id, t.score, t.max_score, messages.get(t.grade_id, ""))
                  for t in outcome.tests)
    return CheckResult(assignment_id, outcome.status, outcome.reason, tests)
