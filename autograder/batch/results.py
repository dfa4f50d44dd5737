"""Scores read back from an nbgrader gradebook, as small dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.authoring.course import COURSE_ID, assignment


@dataclass(frozen=True)
class TestScore:
    """The score of one test cell."""

    grade_id: str
    """The test cell's grade id."""
    score: float
    """Points given (auto score, or the manual score where a grader set one)."""
    max_score: float
    """Points possible."""
    needs_manual_grade: bool = False
    """Whether nbgrader left this cell for a person to grade."""


class PointsTotal:
    """Totals of a record whose ``tests`` are :class:`TestScore` entries."""

    tests: tuple[TestScore, ...]

    @property
    def score(self) -> float:
        """Total points given."""
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        """Total points possible; 0 means nothing was graded, which is an error, not a pass."""
        return sum(t.max_score for t in self.tests)


@dataclass(frozen=True)
class SubmissionScore(PointsTotal):
    """The grade of one student's submission of one assignment."""

    student: str
    """The student id."""
    assignment: str
    """The assignment id."""
    tests: tuple[TestScore, ...] = field(default_factory=tuple)
    """One entry per test cell, in notebook order."""
    seconds: float | None = None
    """Wall time of the autograde run, if measured."""

    @property
    def passed_all(self) -> bool:
        """Every test got its full points (and there was at least one test)."""
        if self.max_score == 0:
            raise ValueError(f"{self.student}/{self.assignment}: expected graded tests, got none.")
        return all(t.score == t.max_score for t in self.tests)

    def by_test(self) -> dict[str, TestScore]:
        """The tests by grade id."""
        return {t.grade_id: t for t in self.tests}


def db_url(course_root: Path) -> str:
    """The gradebook URL nbgrader uses by default for ``course_root``."""
    return f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"


def read_submission(course_root: Path, assignment_id: str, student: str, *,
                    seconds: float | None = None, url: str | None = None) -> SubmissionScore:
    """The scores of ``student``'s ``assignment_id`` from the gradebook of ``course_root``."""
    notebook_id = assignment(assignment_id).id
    with Gradebook(url or db_url(course_root), COURSE_ID) as gb:
        try:
            submission = gb.find_submission_notebook(notebook_id, assignment_id, student)
        except MissingEntry:
            raise LookupError(f"{student}/{assignment_id}: expected a graded submission in the "
                              f"gradebook, found none. Was it autograded?") from None
        order = {cell.name: i for i, cell in enumerate(submission.notebook.source_cells)}
        tests = sorted(
            (TestScore(g.name, float(g.score or 0), float(g.max_score), bool(g.needs_manual_grade))
             for g in submission.grades),
            key=lambda t: order.get(t.grade_id, 0),
        )
    return SubmissionScore(student, assignment_id, tuple(tests), seconds)

