"""The intake of the batch grader: which notebook is whose, for which assignment, before grading.

Three sources, one result (:class:`Intake`):

- :func:`from_submitted` reads nbgrader's ``submitted/<student>/<assignment>/<assignment>.ipynb``;
- :func:`from_exchange` runs ``nbgrader collect --update`` for each assignment, then reads
  ``submitted/``;
- :func:`from_zip` reads an LMS bulk download (Canvas or Moodle, see :mod:`autograder.batch.lms`)
  and writes each student's latest notebook into ``submitted/``.

Every notebook is checked before it is accepted, in this order, each step assuming the one before:
its size (nbgrader skips files over ``CourseDirectory.max_file_size``), UTF-8, JSON, a notebook
nbformat reads, and its assignment, told by content: the grade ids of its nbgrader cells against
those of each ``source/<a>/<a>.ipynb`` (the largest overlap wins; the file name or folder breaks a
tie). A file that fails goes to :attr:`Intake.unplaced` with the reason and the fix; a single bad
file never stops the intake. :class:`IntakeError` is for input that is unusable as a whole.

In a zip, ``__MACOSX/`` and names with a component starting with a dot (``.DS_Store``,
``.ipynb_checkpoints/``) are skipped silently: the system or Jupyter wrote them, not the student.
Any other file that is not a ``.ipynb`` is listed as not graded.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping, Sequence

import nbformat
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from autograder.batch import lms
from autograder.batch.atomic import write_atomic
from autograder.batch.outcome import Submission, Unplaced
from autograder.authoring.course import ASSIGNMENT_IDS, UnknownAssignment, assignment
from autograder.authoring.nbgrader_run import NbgraderError, run_nbgrader

log = logging.getLogger(__name__)

#: nbgrader's ``CourseDirectory.max_file_size`` (100000 KB): it skips larger files with a warning.
MAX_NOTEBOOK_BYTES = 100000 * 1024

#: nbgrader's ``timestamp.txt`` format, as ``nbgrader submit`` writes it.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"

_DOWNLOAD_AGAIN = ("Download the submissions again from the LMS (Canvas: Download Submissions; "
                   "Moodle: Download all submissions).")


class IntakeError(ValueError):
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


# --- checking one notebook -------------------------------------------------------------------


class _Rejected(Exception):
    """A file is not a usable notebook; the message says what it is instead, and the fix."""


class _NoCells(_Rejected):
    """A notebook with no nbgrader cell at all (its metadata stripped)."""


@dataclass(frozen=True)
class _Identified:
    """The assignment a notebook belongs to, told by its cells."""

    assignment: str
    tests_match: bool
    """Some of its test cells (graded, not answers) are that assignment's."""


def _source_grade_ids(course_root: Path, wanted: Sequence[str]) -> dict[str, frozenset[str]]:
    """The nbgrader grade ids of each assignment's source notebook, in course order; every
    ``wanted`` assignment must have one."""
    if not course_root.is_dir():
        raise IntakeError(f"course folder: expected a folder, got {course_root} (no such folder). "
                          f"Give the folder that holds nbgrader_config.py and source/.")
    sources: dict[str, frozenset[str]] = {}
    for assignment_id in ASSIGNMENT_IDS:
        path = course_root / "source" / assignment_id / f"{assignment_id}.ipynb"
        if not path.is_file():
            if assignment_id in wanted:
                raise IntakeError(f"course folder {course_root}: expected source/{assignment_id}/"
                                  f"{assignment_id}.ipynb, got no such file. Run the intake in a "
                                  f"course folder (the repository, or one made by "
                                  f"autograder.authoring.build.make_course).")
            continue
        try:
            notebook = _parse(path.read_bytes())
        except _Rejected as exc:
            raise IntakeError(f"course folder {course_root}: expected a readable source notebook "
                              f"source/{assignment_id}/{assignment_id}.ipynb, got one that is not: "
                              f"{exc}") from exc
        sources[assignment_id] = _grade_ids(notebook)
    return sources


def _parse(data: bytes) -> nbformat.NotebookNode:
    """``data`` as a notebook, or :class:`_Rejected` saying what it is instead."""
    save_again = "ask the student to open it in Jupyter, save it, and submit it again."
    if not data:
        raise _Rejected("expected a notebook, got an empty file (0 bytes). The upload or the save "
                        "failed: " + save_again)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise _Rejected(f"expected a notebook of at most {MAX_NOTEBOOK_BYTES // 1024} KB (nbgrader's "
                        f"CourseDirectory.max_file_size), got {len(data) // 1024} KB. nbgrader would "
                        f"skip it: ask the student to clear the outputs (Kernel > Restart Kernel and "
                        f"Clear All Outputs) and submit it again.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Rejected(f"expected a notebook in UTF-8, got bytes that are not UTF-8 (byte "
                        f"0x{data[exc.start]:02x} at offset {exc.start}). It is not a file that "
                        f"Jupyter saved (perhaps another format renamed to .ipynb, or re-encoded): "
                        f"{save_again}") from exc
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Rejected(f"expected a notebook (JSON), got text that is not JSON ({exc.msg} at line "
                        f"{exc.lineno}, column {exc.colno}). It was cut short or edited outside "
                        f"Jupyter: {save_again}") from exc
    if not isinstance(content, dict) or not isinstance(content.get("cells", []), list):
        got = type(content).__name__ if not isinstance(content, dict) else "no list of cells"
        raise _Rejected(f"expected a Jupyter notebook, got JSON that is not one ({got}). "
                        f"{save_again[0].upper()}{save_again[1:]}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
        broken = [i for i, cell in enumerate(notebook.cells)
                  if not isinstance(cell, Mapping) or "cell_type" not in cell or "source" not in cell]
        if broken:
            raise ValueError(f"cell {broken[0]} has no cell_type or no source")
    except Exception as exc:  # nbformat raises many kinds on a malformed notebook
        raise _Rejected(f"expected a Jupyter notebook, got JSON that nbformat cannot read "
                        f"({type(exc).__name__}: {exc}). {save_again[0].upper()}{save_again[1:]}"
                        ) from exc
    return notebook


def _grade_ids(notebook: nbformat.NotebookNode) -> frozenset[str]:
    return frozenset(_grade_id(cell) for cell in notebook.cells if _grade_id(cell))


def _test_ids(notebook: nbformat.NotebookNode) -> frozenset[str]:
    """The grade ids of its test cells: graded, and not answers."""
    return frozenset(_grade_id(cell) for cell in notebook.cells if _grade_id(cell)
                     and _nbgrader(cell).get("grade") and not _nbgrader(cell).get("solution"))


def _grade_id(cell: Mapping) -> str:
    value = _nbgrader(cell).get("grade_id")
    return value if isinstance(value, str) else ""


def _nbgrader(cell: Mapping) -> Mapping:
    metadata = cell.get("metadata")
    value = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _identify(notebook: nbformat.NotebookNode, sources: Mapping[str, frozenset[str]],
              hint: str | None, expected: str) -> _Identified:
    """The assignment whose source shares the most grade ids with ``notebook``; a tie goes to
    ``hint``. Raises :class:`_Rejected` (its message starting with ``expected``) when there is no
    nbgrader cell, no overlap, or a tie that ``hint`` does not break."""
    ids = _grade_ids(notebook)
    if not ids:
        raise _NoCells(f"expected {expected}, got a notebook without nbgrader cells (no grade ids in "
                        f"its metadata). It was made anew or copied cell by cell: ask the student to "
                        f"put their answers into the released notebook and submit that.")
    overlap = {a: len(ids & source) for a, source in sources.items()}
    best = max(overlap.values(), default=0)
    if best == 0:
        raise _Rejected(f"expected {expected}, got a notebook whose nbgrader cells match no assignment "
                        f"of this course (grade ids {_some(ids)}). It is from "
                        f"another course or another version: ask for the notebook released here.")
    leaders = [a for a, n in overlap.items() if n == best]
    if len(leaders) > 1:
        if hint not in leaders:
            raise _Rejected(f"expected {expected}, got a notebook whose cells match "
                            f"{' and '.join(repr(a) for a in leaders)} equally (only the cells they "
                            f"share are left). Ask the student for the notebook of the assignment, "
                            f"named after it.")
        leaders = [hint]
    winner = leaders[0]
    return _Identified(winner, bool(_test_ids(notebook) & sources[winner]))


def _some(names: Iterable[str], count: int = 5) -> str:
    names = sorted(names)
    return ", ".join(names[:count]) + (", ..." if len(names) > count else "")


def _expected(assignments: Sequence[str]) -> str:
    if len(assignments) == 1:
        return f"the notebook of assignment {assignments[0]!r}"
    return f"the notebook of one of the assignments {', '.join(repr(a) for a in assignments)}"


def _got(found: _Identified) -> str:
    cells = "test cells" if found.tests_match else "cells"
    return (f"got the notebook of assignment {found.assignment!r} (its {cells} are "
            f"{found.assignment}'s)")


def _name_hint(filename: str, assignments: Iterable[str]) -> str | None:
    """The assignment a file name points to: ``Resnet34 (1).ipynb`` → ``resnet34``."""
    stem = lms.name_stem(filename)
    named = [a for a in assignments if a == stem] or [a for a in assignments if a in stem]
    return max(named, key=len) if named else None


# --- the arguments ---------------------------------------------------------------------------


def _assignments(assignments: Sequence[str]) -> tuple[str, ...]:
    if isinstance(assignments, str):
        assignments = [assignments]
    if not assignments:
        raise IntakeError(f"assignments: expected at least one of {', '.join(ASSIGNMENT_IDS)}, got "
                          f"none.")
    for assignment_id in assignments:
        try:
            assignment(assignment_id)
        except UnknownAssignment as exc:
            raise IntakeError(str(exc)) from exc
    return tuple(a for a in ASSIGNMENT_IDS if a in assignments)


def _students(students: Sequence[str] | None) -> frozenset[str] | None:
    if students is None:
        return None
    if isinstance(students, str):
        students = [students]
    return frozenset(students)


def _check_students_found(wanted: frozenset[str] | None, found: set[str], where: str) -> None:
    missing = sorted((wanted or frozenset()) - found)
    if missing:
        listed = ", ".join(sorted(found)) if found else "none"
        raise IntakeError(f"students: expected a submission from {', '.join(map(repr, missing))}, got "
                          f"none in {where}. Students found: {listed}. Check the spelling, or leave "
                          f"the student out.")


def _sorted_submissions(submissions: Iterable[Submission]) -> tuple[Submission, ...]:
    return tuple(sorted(submissions, key=lambda s: (ASSIGNMENT_IDS.index(s.assignment), s.student)))


# --- submitted/ and the exchange -------------------------------------------------------------


def from_submitted(course_root: Path, assignments: Sequence[str],
                   students: Sequence[str] | None = None) -> Intake:
    """The submissions in ``course_root/submitted/<student>/<assignment>/``.

    Each ``<assignment>.ipynb`` is checked (see the module's docstring). A folder without
    ``<assignment>.ipynb`` has each of its other notebooks unplaced with the fix (nbgrader grades
    only ``<assignment>.ipynb``); a notebook next to ``<assignment>.ipynb`` is unplaced too, as not
    graded. ``students`` limits the intake to those students; one without any folder raises
    :class:`IntakeError`. Nothing is written.
    """
    course_root = Path(course_root)
    wanted_assignments = _assignments(assignments)
    wanted_students = _students(students)
    sources = _source_grade_ids(course_root, wanted_assignments)
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
    _check_students_found(wanted_students, found, f"{submitted} for {', '.join(wanted_assignments)}")
    return Intake(_sorted_submissions(placed), tuple(unplaced))


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
            files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
            folder_origin = _relative(course_root, folder) + "/"
            return [], [Unplaced(folder_origin, f"{folder_origin}: expected {name}, got no notebook "
                                                f"({', '.join(files) or 'an empty folder'}). Ask "
                                                f"{student} to submit {name} again.")]
        problems = []
        for other in others:
            other_origin = _relative(course_root, other)
            try:
                found = _identify(_parse(other.read_bytes()), sources, assignment_id,
                                  _expected([assignment_id]))
                what = f" It is the notebook of assignment {found.assignment!r}."
            except _Rejected as exc:
                what = f" It is not usable either: {exc}"
            problems.append(Unplaced(other_origin, (
                f"{other_origin}: expected the notebook to be named {name}, got {other.name!r}. "
                f"nbgrader grades only {name}: rename it to {name} in {_relative(course_root, folder)}"
                f"/ (or ask {student} to submit it under that name).{what}")))
        return [], problems
    problems = [Unplaced(_relative(course_root, p), (
        f"{_relative(course_root, p)}: not graded: nbgrader grades only {name}, which is next to it. "
        f"If this is {student}'s work, replace {name} with it.")) for p in others]
    try:
        found = _identify(_parse(expected_path.read_bytes()), sources, assignment_id,
                          _expected([assignment_id]))
    except _NoCells:
        # Its place says which assignment it is, and nbgrader puts the locked cells back: grade
        # it (the grade notes the stripped metadata).
        return [Submission(student, assignment_id, expected_path, origin)], problems
    except _Rejected as exc:
        return [], [Unplaced(origin, f"{origin}: {exc}"), *problems]
    if found.assignment != assignment_id:
        return [], [Unplaced(origin, (
            f"{origin}: expected the notebook of assignment {assignment_id!r}, {_got(found)}. "
            f"Submit {name} from the {assignment_id} assignment.")), *problems]
    return [Submission(student, assignment_id, expected_path, origin)], problems


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
    wanted_assignments = _assignments(assignments)
    _source_grade_ids(course_root, wanted_assignments)
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


# --- an LMS zip ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A checked notebook from the zip, not yet written."""

    student: str
    assignment: str
    member: str
    origin: str
    attempt: int
    time: datetime
    data: bytes

    @property
    def order(self) -> tuple:
        """Later attempts sort last: Canvas's suffix, then the entry's time, then its name."""
        return (self.attempt, self.time, self.member)


def from_zip(course_root: Path, zip_path: Path, assignments: Sequence[str],
             students: Sequence[str] | None = None, roster: Path | None = None) -> Intake:
    """Place the notebooks of an LMS bulk download (Canvas or Moodle) into ``submitted/``.

    Each member's name gives the person (:func:`autograder.batch.lms.parse_member`): the Canvas
    login or the Moodle participant id is the student id, unless ``roster`` (a CSV with columns
    ``lms_id,student_id``) maps it; with a roster, a person not in it is unplaced. The assignment
    comes from the notebook's cells; its file name only breaks a tie. Of several notebooks of one
    student for one assignment, the latest counts (Canvas's ``-N`` suffix, then the entry's time,
    then its name); the others are :attr:`Intake.superseded`.

    Each placed notebook is written, byte for byte, to
    ``submitted/<student>/<assignment>/<assignment>.ipynb`` with ``timestamp.txt`` from the entry's
    time (UTC: the zip's extended timestamp when present, else its date and time read as UTC). A
    different notebook already there is replaced (:attr:`Intake.replaced`). Member names are never
    used as paths. Nothing is written when :class:`IntakeError` is raised: for a missing file, one
    that is not a zip, a corrupt or truncated zip, an empty one, one without notebooks, an unknown
    assignment, a bad roster, or a requested student without any file.
    """
    course_root, zip_path = Path(course_root), Path(zip_path)
    wanted_assignments = _assignments(assignments)
    wanted_students = _students(students)
    sources = _source_grade_ids(course_root, wanted_assignments)
    try:
        roster_ids = lms.load_roster(Path(roster)) if roster is not None else None
    except lms.RosterError as exc:
        raise IntakeError(str(exc)) from exc

    candidates: list[_Candidate] = []
    unplaced: list[Unplaced] = []
    found: set[str] = set()
    with _open_zip(zip_path) as archive:
        members = _members(zip_path, archive)
        for info in members:
            origin = f"{zip_path.name}:{info.filename}"
            try:
                candidate = _zip_candidate(archive, info, origin, zip_path, sources,
                                           wanted_assignments, wanted_students, roster_ids, found)
            except _Rejected as exc:
                unplaced.append(Unplaced(origin, f"{origin}: {exc}"))
                continue
            if candidate is not None:
                candidates.append(candidate)
    _check_students_found(wanted_students, found, str(zip_path))

    latest: dict[tuple[str, str], _Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: c.order):
        latest[(candidate.student, candidate.assignment)] = candidate
    superseded = [Unplaced(c.origin, _superseded_reason(c, latest[(c.student, c.assignment)]))
                  for c in sorted(candidates, key=lambda c: c.origin)
                  if latest[(c.student, c.assignment)] is not c]

    placed: list[Submission] = []
    replaced: list[Submission] = []
    for candidate in latest.values():
        try:
            submission, overwrote = _write(course_root, candidate)
        except _Rejected as exc:
            unplaced.append(Unplaced(candidate.origin, f"{candidate.origin}: {exc}"))
            continue
        placed.append(submission)
        if overwrote:
            replaced.append(submission)
    return Intake(_sorted_submissions(placed), tuple(unplaced), tuple(superseded),
                  _sorted_submissions(replaced))


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    """``zip_path`` opened, or :class:`IntakeError` saying what it is instead."""
    expected = f"{zip_path}: expected a zip file (an LMS bulk download)"
    if not zip_path.exists():
        raise IntakeError(f"{expected}, got no such file. Check the path.")
    if zip_path.is_dir():
        raise IntakeError(f"{expected}, got a folder. Give the downloaded .zip file itself.")
    with zip_path.open("rb") as handle:
        head = handle.read(8)
    if not zipfile.is_zipfile(zip_path):
        if not head:
            got = "an empty file (0 bytes)"
        elif head.startswith(b"PK"):
            got = "a zip that is cut short (no zip directory at its end; the download was interrupted)"
        else:
            got = f"a file that is not a zip (it starts with {head!r})"
        raise IntakeError(f"{expected}, got {got}. {_DOWNLOAD_AGAIN}")
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError(f"{expected}, got a corrupt zip ({exc}). {_DOWNLOAD_AGAIN}") from exc


def _members(zip_path: Path, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The zip's files (folders left out); :class:`IntakeError` when there is none, or no
    notebook."""
    files = [info for info in archive.infolist() if not info.is_dir()]
    if not files:
        raise IntakeError(f"{zip_path}: expected a zip of submissions, got an empty zip (no files in "
                          f"it). {_DOWNLOAD_AGAIN}")
    if not any(info.filename.lower().endswith(".ipynb") and not _ignored(info.filename)
               for info in files):
        names = [info.filename for info in files if not _ignored(info.filename)]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")  # zip order, not sorted
        raise IntakeError(f"{zip_path}: expected a zip with notebooks (.ipynb), got none among its "
                          f"{len(names)} file(s){': ' + shown if names else ''}. Check that it is "
                          f"the download of the notebook assignment.")
    return files


def _ignored(member: str) -> bool:
    """Written by the system or Jupyter, not the student: ``__MACOSX/``, dotfiles, dot folders."""
    return any(part == "__MACOSX" or part.startswith(".") for part in _parts(member) if part != "..")


def _parts(member: str) -> tuple[str, ...]:
    return PurePosixPath(member.replace("\\", "/")).parts


def _unsafe(member: str) -> bool:
    """A name that would lead out of a folder it was extracted to."""
    name = member.replace("\\", "/")
    return name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in _parts(name)


def _zip_candidate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, zip_path: Path,
                   sources: Mapping[str, frozenset[str]], wanted_assignments: Sequence[str],
                   wanted_students: frozenset[str] | None, roster: Mapping[str, str] | None,
                   found: set[str]) -> _Candidate | None:
    """The checked notebook in one zip member; ``None`` for a member skipped silently (system
    files, other students); :class:`_Rejected` for one that is not graded."""
    member = info.filename
    if _unsafe(member):
        raise _Rejected(f"expected a file name inside the zip, got a path that leads out of it "
                        f"({member!r}). It was not written anywhere; a genuine LMS download never "
                        f"holds such names, so get a fresh one.")
    if _ignored(member):
        log.debug("skipping %s (system file)", origin)
        return None
    entry = lms.parse_member(member)
    if entry is None:
        raise _Rejected(f"expected a name in Canvas's form (login_userid_submissionid_file) or "
                        f"Moodle's (Full Name_participantid_assignsubmission_file_/file), got "
                        f"{PurePosixPath(member).name!r}. Use the LMS's bulk download unchanged "
                        f"(not renamed or re-packed), or grade this file by hand.")
    student = entry.person
    if roster is not None:
        mapped = lms.roster_student(entry, roster)
        if mapped is None:
            raise _Rejected(f"not in the roster: expected an lms_id for {entry.describe()}, got none "
                            f"(looked up {', '.join(repr(a) for a in entry.aliases)}). Add a row "
                            f"lms_id,student_id for them to the roster.")
        student = mapped
    problem = lms.student_id_problem(student)
    if problem:
        raise _Rejected(f"expected a student id usable as a folder name, got {problem}. Map "
                        f"{entry.describe()} to another student id in a roster.")
    if wanted_students is not None and student not in wanted_students:
        return None
    found.add(student)
    suffix = PurePosixPath(entry.filename).suffix
    if suffix.lower() != ".ipynb":
        got = f"a {suffix} file" if suffix else "a file without an extension"
        raise _Rejected(f"expected a notebook (.ipynb), got {got}. Only notebooks are graded: ask "
                        f"{student} for the .ipynb (in Jupyter: File > Download).")
    if info.file_size > MAX_NOTEBOOK_BYTES:
        raise _Rejected(f"expected a notebook of at most {MAX_NOTEBOOK_BYTES // 1024} KB (nbgrader's "
                        f"CourseDirectory.max_file_size), got {info.file_size // 1024} KB. Ask "
                        f"{student} to clear the outputs and submit it again.")
    data = _read_member(zip_path, archive, info)
    hint = _name_hint(entry.filename, wanted_assignments) or _name_hint(entry.filename, sources)
    expected = _expected([hint] if hint in wanted_assignments else wanted_assignments)
    found_assignment = _identify(_parse(data), sources, hint, expected)
    if found_assignment.assignment not in wanted_assignments:
        raise _Rejected(f"expected {expected}, {_got(found_assignment)}. It is not graded in this run: "
                        f"add {found_assignment.assignment!r} to the assignments to grade it, or ask "
                        f"{student} for the notebook of "
                        f"{' or '.join(repr(a) for a in wanted_assignments)}.")
    return _Candidate(student, found_assignment.assignment, member, origin, entry.attempt,
                      _entry_time(info), data)


def _read_member(zip_path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes; a corrupt entry makes the whole zip suspect (:class:`IntakeError`)."""
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise IntakeError(f"{zip_path}: expected an intact zip, got a corrupt one ({info.filename}: "
                          f"{exc}). {_DOWNLOAD_AGAIN}") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or an unknown compression
        raise _Rejected(f"expected a file the zip module can read, got one it cannot ({exc}). "
                        f"Extract it by hand, or ask for the file.") from exc


def _entry_time(info: zipfile.ZipInfo) -> datetime:
    """The member's modification time in UTC: the extended-timestamp field (0x5455) when the zip
    has one, else the DOS date and time, which carry no zone and are read as UTC."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4:4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], timezone.utc)
        extra = extra[4 + size:]
    try:
        return datetime(*info.date_time, tzinfo=timezone.utc)
    except ValueError:
        return datetime(1980, 1, 1, tzinfo=timezone.utc)


def _superseded_reason(older: _Candidate, latest: _Candidate) -> str:
    if latest.attempt != older.attempt:
        why = (f"attempt -{latest.attempt} comes after "
               f"{'-' + str(older.attempt) if older.attempt else 'the first upload'}")
    elif latest.time != older.time:
        why = f"uploaded {_stamp(latest.time)}, after this one's {_stamp(older.time)}"
    else:
        why = "same attempt and time; the name later in order counts"
    return (f"{older.origin}: superseded by {latest.origin} ({why}). Only the latest notebook of "
            f"{latest.student} for {latest.assignment} is graded.")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _write(course_root: Path, candidate: _Candidate) -> tuple[Submission, bool]:
    """Write ``candidate`` into ``submitted/``; also whether a different notebook was there."""
    submitted = (course_root / "submitted").resolve()
    folder = course_root / "submitted" / candidate.student / candidate.assignment
    target = folder / assignment(candidate.assignment).notebook
    if not target.resolve().is_relative_to(submitted):
        raise _Rejected(f"expected a place inside {submitted}, got {target.resolve()}. Not written: "
                        f"check the student folder {candidate.student!r} (a link?).")
    folder.mkdir(parents=True, exist_ok=True)
    overwrote = target.is_file() and target.read_bytes() != candidate.data
    if overwrote:
        log.info("%s replaces a different notebook in %s", candidate.origin, target)
    write_atomic(target, candidate.data)
    stamp = candidate.time.strftime(TIMESTAMP_FORMAT)
    write_atomic(folder / "timestamp.txt", stamp)
    return Submission(candidate.student, candidate.assignment, target, candidate.origin), overwrote


# --- printing --------------------------------------------------------------------------------


def show(intake: Intake, console: Console) -> None:
    """Print what will be graded: a table of student, assignment and the file each came from,
    then the files that will not be graded with their reasons, then the superseded attempts."""
    replaced = {(s.student, s.assignment) for s in intake.replaced}
    students = len(intake.students)
    console.print(Text(f"{len(intake.submissions)} submission(s) from {students} student(s) to grade; "
                       f"{len(intake.unplaced)} file(s) not graded; {len(intake.superseded)} older "
                       f"attempt(s) superseded."))
    if intake.submissions:
        table = Table(title="Submissions to grade", title_justify="left")
        table.add_column("student", no_wrap=True)
        table.add_column("assignment", no_wrap=True)
        table.add_column("from", overflow="fold")
        if replaced:
            table.add_column("note")
        for submission in intake.submissions:
            row = [Text(submission.student), Text(submission.assignment), Text(submission.origin)]
            if replaced:
                key = (submission.student, submission.assignment)
                row.append(Text("replaced a different notebook in submitted/" if key in replaced
                                else ""))
            table.add_row(*row)
        console.print(table)
    for title, items in (("Not graded", intake.unplaced), ("Superseded attempts", intake.superseded)):
        if not items:
            continue
        console.print(Text(f"\n{title} ({len(items)})", style="bold"))
        for item in items:
            console.print(Text(item.origin, style="bold"), overflow="fold")
            reason = item.reason.removeprefix(f"{item.origin}: ")
            console.print(Padding(Text(reason), (0, 0, 0, 4), expand=False))
