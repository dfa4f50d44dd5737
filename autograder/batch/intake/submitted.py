"""Submissions from nbgrader's own places: the ``submitted/`` folder, and the exchange that
``nbgrader collect`` empties into it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from autograder.authoring.course import assignment
from autograder.authoring.nbgrader_run import NbgraderError, run_nbgrader
from autograder.batch.intake.notebook import (
    NoCells,
    Rejected,
    expected_text,
    got_text,
    identify,
    parse,
    source_grade_ids,
)
from autograder.batch.intake.result import (
    Intake,
    IntakeError,
    check_students_found,
    checked_assignments,
    checked_students,
    sorted_submissions,
)
from autograder.batch.outcome import Submission, Unplaced


def from_submitted(course_root: Path, assignments: Sequence[str],
                   students: Sequence[str] | None = None) -> Intake:
    """The submissions in ``course_root/submitted/<student>/<assignment>/``.

    Each ``<assignment>.ipynb`` is checked (see :mod:`autograder.batch.intake.notebook`). A folder
    without ``<assignment>.ipynb`` has each of its other notebooks unplaced with the fix (nbgrader
    grades only ``<assignment>.ipynb``); a notebook next to ``<assignment>.ipynb`` is unplaced too,
    as not graded. ``students`` limits the intake to those students; one without any folder raises
    :class:`IntakeError`. Nothing is written.
    """
    course_root = Path(course_root)
    wanted_assignments = checked_assignments(assignments, course_root)
    wanted_students = checked_students(students)
    sources = source_grade_ids(course_root, wanted_assignments)
    submitted = course_root / "submitted"
    student_dirs = sorted(p for p in submitted.iterdir()
                          if p.is_dir() and not p.name.startswith(".")) if submitted.is_dir() else []
    placed: list[Submission] = []
    unplaced: list[Unplaced] = []
    found: set[str] = set()
    for assignment_id in wanted_assignments:
        for student_dir in student_dirs:
            folder = student_dir / assignment_id
            if (wanted_students is not None and student_dir.name not in wanted_students) \
                    or not folder.is_dir():
                continue
            found.add(student_dir.name)
            placed_one, problems = _submitted_folder(course_root, folder, assignment_id, sources)
            placed.extend(placed_one)
            unplaced.extend(problems)
    check_students_found(wanted_students, found, f"{submitted} for {', '.join(wanted_assignments)}")
    return Intake(sorted_submissions(placed, course_root), tuple(unplaced))


def _submitted_folder(course_root: Path, folder: Path, assignment_id: str,
                      sources: Mapping[str, frozenset[str]]) -> tuple[list[Submission], list[Unplaced]]:
    """The submission in one ``submitted/<student>/<assignment>/`` folder, and its problems."""
    student = folder.parent.name
    name = assignment(assignment_id).notebook
    expected_path = folder / name
    others = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and p.name != name)
    origin = _relative(course_root, expected_path)
    if not expected_path.is_file():
        if not others:
            return [], [_no_notebook(course_root, folder, name, student)]
        return [], [_misnamed(course_root, other, assignment_id, sources) for other in others]
    problems = [Unplaced(_relative(course_root, p), (
        f"{_relative(course_root, p)}: not graded: nbgrader grades only {name}, which is next to it. "
        f"If this is {student}'s work, replace {name} with it.")) for p in others]
    try:
        found = identify(parse(expected_path.read_bytes()), sources, assignment_id,
                         expected_text([assignment_id]))
    except NoCells:
        # Its place says which assignment it is, and nbgrader puts the locked cells back: grade
        # it (the grade notes the stripped metadata).
        return [Submission(student, assignment_id, expected_path, origin)], problems
    except Rejected as exc:
        return [], [Unplaced(origin, f"{origin}: {exc}"), *problems]
    if found.assignment != assignment_id:
        return [], [Unplaced(origin, (
            f"{origin}: expected the notebook of assignment {assignment_id!r}, {got_text(found)}. "
            f"Submit {name} from the {assignment_id} assignment.")), *problems]
    return [Submission(student, assignment_id, expected_path, origin)], problems


def _no_notebook(course_root: Path, folder: Path, name: str, student: str) -> Unplaced:
    """A student's assignment folder without any notebook."""
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    origin = _relative(course_root, folder) + "/"
    return Unplaced(origin, f"{origin}: expected {name}, got no notebook "
                            f"({', '.join(files) or 'an empty folder'}). Ask {student} to submit "
                            f"{name} again.")


def _misnamed(course_root: Path, other: Path, assignment_id: str,
              sources: Mapping[str, frozenset[str]]) -> Unplaced:
    """A notebook under another name than ``<assignment>.ipynb``, which is missing."""
    folder, student = other.parent, other.parent.parent.name
    name = assignment(assignment_id).notebook
    origin = _relative(course_root, other)
    try:
        found = identify(parse(other.read_bytes()), sources, assignment_id,
                         expected_text([assignment_id]))
        what = f" It is the notebook of assignment {found.assignment!r}."
    except Rejected as exc:
        what = f" It is not usable either: {exc}"
    return Unplaced(origin, (
        f"{origin}: expected the notebook to be named {name}, got {other.name!r}. "
        f"nbgrader grades only {name}: rename it to {name} in {_relative(course_root, folder)}"
        f"/ (or ask {student} to submit it under that name).{what}"))


def _relative(course_root: Path, path: Path) -> str:
    try:
        return path.relative_to(course_root).as_posix()
    except ValueError:
        return str(path)


def from_exchange(course_root: Path, assignments: Sequence[str],
                  students: Sequence[str] | None = None) -> Intake:
    """Collect each assignment from nbgrader's exchange into ``submitted/`` with the real
    ``nbgrader collect <assignment> --update`` (each student's latest submission; an assignment
    nobody submitted collects nothing), then :func:`from_submitted`.

    The exchange is the course configuration's (``CNNKIT_EXCHANGE``, else ``<course>/.exchange``).
    Every student is collected; ``students`` limits what the intake returns. Raises
    :class:`IntakeError` when the exchange does not hold the course or ``collect`` fails.
    """
    course_root = Path(course_root)
    wanted_assignments = checked_assignments(assignments, course_root)
    source_grade_ids(course_root, wanted_assignments)
    for assignment_id in wanted_assignments:
        try:
            run_nbgrader(["collect", assignment_id, "--update"], course_root)
        except NbgraderError as exc:
            if "Course not found" in str(exc):
                raise IntakeError(
                    f"exchange: expected the course's inbound folder, got none "
                    f"({_critical(exc, 'Course not found')}). Nothing was released or submitted "
                    f"there: release the assignment first, or set CNNKIT_EXCHANGE to the exchange "
                    f"the students submit to.") from exc
            if "Unwritable directory" in str(exc):
                raise IntakeError(
                    f"exchange: expected a writable exchange folder, got none "
                    f"({_critical(exc, 'Unwritable directory')}). Set CNNKIT_EXCHANGE to the "
                    f"exchange the students submit to (it must exist).") from exc
            raise IntakeError(f"exchange: expected `nbgrader collect {assignment_id} --update` to "
                              f"succeed, got a failure. {exc}") from exc
    return from_submitted(course_root, wanted_assignments, students)


def _critical(exc: Exception, marker: str) -> str:
    """nbgrader's line holding ``marker``, without its ``[CollectApp | CRITICAL]`` prefix."""
    line = next(line for line in str(exc).splitlines() if marker in line)
    return line.split("] ", 1)[-1].strip()
