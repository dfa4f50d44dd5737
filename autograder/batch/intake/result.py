"""What every source of submissions returns (:class:`Intake`), the error for input unusable as a
whole (:class:`IntakeError`), and the checks of the arguments all sources share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.authoring import course
from autograder.authoring.course import UnknownAssignment
from autograder.batch.outcome import Submission, Unplaced
from autograder.errors import BadInput


class IntakeError(BadInput):
    """The input is unusable as a whole: a missing, empty or corrupt zip, an unknown assignment or
    student, a course folder without its source notebooks, a bad roster."""


@dataclass(frozen=True)
class Intake:
    """What will be graded, and what will not."""

    submissions: tuple[Submission, ...] = ()
    """One per student and assignment, sorted by the course's assignment order, then student."""
    unplaced: tuple[Unplaced, ...] = ()
    """Files that will not be graded, each with its reason and its fix."""
    superseded: tuple[Unplaced, ...] = ()
    """Older attempts that a later attempt of the same student and assignment replaced; the
    reason names the file that counts."""
    replaced: tuple[Submission, ...] = field(default=())
    """Submissions from a zip that overwrote a different notebook already in ``submitted/``."""

    @property
    def students(self) -> tuple[str, ...]:
        """The students with a submission to grade, sorted."""
        return tuple(sorted({s.student for s in self.submissions}))


def checked_assignments(assignments: Sequence[str], course_root: Path | None = None) -> tuple[str, ...]:
    """``assignments`` (one id or several) in the order of the course in ``course_root`` (else the
    current course); :class:`IntakeError` for none or an unknown one."""
    if isinstance(assignments, str):
        assignments = [assignments]
    the_course = course.of(course_root) if course_root is not None else course.current()
    ids = the_course.ids
    if not assignments:
        raise IntakeError(f"assignments: expected at least one of {', '.join(ids)}, got none.")
    for assignment_id in assignments:
        try:
            the_course.assignment(assignment_id)
        except UnknownAssignment as exc:
            raise IntakeError(str(exc)) from exc
    return tuple(a for a in ids if a in assignments)


def checked_students(students: Sequence[str] | None) -> frozenset[str] | None:
    """``students`` (one id or several) as a set; None (every student) stays None."""
    if students is None:
        return None
    if isinstance(students, str):
        students = [students]
    return frozenset(students)


def check_students_found(wanted: frozenset[str] | None, found: set[str], where: str) -> None:
    """:class:`IntakeError` when a student asked for has no submission in ``where``."""
    missing = sorted((wanted or frozenset()) - found)
    if missing:
        listed = ", ".join(sorted(found)) if found else "none"
        raise IntakeError(f"students: expected a submission from {', '.join(map(repr, missing))}, got "
                          f"none in {where}. Students found: {listed}. Check the spelling, or leave "
                          f"the student out.")


def sorted_submissions(submissions: Iterable[Submission],
                       course_root: Path | None = None) -> tuple[Submission, ...]:
    """``submissions`` in the course's assignment order, then by student."""
    rank = (course.of(course_root) if course_root is not None else course.current()).rank
    return tuple(sorted(submissions, key=lambda s: (rank(s.assignment), s.student)))
