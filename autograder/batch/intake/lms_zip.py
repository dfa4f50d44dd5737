"""Submissions from an LMS bulk download (Canvas or Moodle), placed into ``submitted/``.

Each member's name says who submitted it (:mod:`autograder.batch.intake.lms`); its content says
which assignment it is (:mod:`autograder.batch.intake.notebook`). ``__MACOSX/`` and names with a
component starting with a dot (``.DS_Store``, ``.ipynb_checkpoints/``) are skipped silently: the
system or Jupyter wrote them, not the student. Any other file that is not a ``.ipynb`` is listed as
not graded.
"""

from __future__ import annotations

import logging
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.authoring.course import assignment
from autograder.batch.atomic import write_atomic
from autograder.batch.intake import lms
from autograder.batch.intake.notebook import (
    MAX_NOTEBOOK_BYTES,
    Rejected,
    expected_text,
    got_text,
    identify,
    name_hint,
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
from autograder.batch.sanitize import for_terminal

log = logging.getLogger(__name__)

#: nbgrader's ``timestamp.txt`` format, as ``nbgrader submit`` writes it.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"

_DOWNLOAD_AGAIN = ("Download the submissions again from the LMS (Canvas: Download Submissions; "
                   "Moodle: Download all submissions).")


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

    Each member's name gives the person (:func:`~autograder.batch.intake.lms.parse_member`): the Canvas
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
    wanted_assignments = checked_assignments(assignments, course_root)
    wanted_students = checked_students(students)
    sources = source_grade_ids(course_root, wanted_assignments)
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
            except Rejected as exc:
                unplaced.append(Unplaced(origin, f"{origin}: {exc}"))
                continue
            if candidate is not None:
                candidates.append(candidate)
    check_students_found(wanted_students, found, str(zip_path))

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
        except Rejected as exc:
            unplaced.append(Unplaced(candidate.origin, f"{candidate.origin}: {exc}"))
            continue
        placed.append(submission)
        if overwrote:
            replaced.append(submission)
    return Intake(sorted_submissions(placed, course_root), tuple(unplaced), tuple(superseded),
                  sorted_submissions(replaced, course_root))


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
    files, other students); :class:`Rejected` for one that is not graded."""
    member = info.filename
    if _unsafe(member):
        raise Rejected(f"expected a file name inside the zip, got a path that leads out of it "
                       f"({member!r}). It was not written anywhere; a genuine LMS download never "
                       f"holds such names, so get a fresh one.")
    if _ignored(member):
        log.debug("skipping %s (system file)", for_terminal(origin))
        return None
    entry = lms.parse_member(member)
    if entry is None:
        raise Rejected(f"expected a name in Canvas's form (login_userid_submissionid_file) or "
                       f"Moodle's (Full Name_participantid_assignsubmission_file_/file), got "
                       f"{PurePosixPath(member).name!r}. Use the LMS's bulk download unchanged "
                       f"(not renamed or re-packed), or grade this file by hand.")
    student = entry.person
    if roster is not None:
        mapped = lms.roster_student(entry, roster)
        if mapped is None:
            raise Rejected(f"not in the roster: expected an lms_id for {entry.describe()}, got none "
                           f"(looked up {', '.join(repr(a) for a in entry.aliases)}). Add a row "
                           f"lms_id,student_id for them to the roster.")
        student = mapped
    problem = lms.student_id_problem(student)
    if problem:
        raise Rejected(f"expected a student id usable as a folder name, got {problem}. Map "
                       f"{entry.describe()} to another student id in a roster.")
    if wanted_students is not None and student not in wanted_students:
        return None
    found.add(student)
    suffix = PurePosixPath(entry.filename).suffix
    if suffix.lower() != ".ipynb":
        got = f"a {suffix} file" if suffix else "a file without an extension"
        raise Rejected(f"expected a notebook (.ipynb), got {got}. Only notebooks are graded: ask "
                       f"{student} for the .ipynb (in Jupyter: File > Download).")
    if info.file_size > MAX_NOTEBOOK_BYTES:
        raise Rejected(f"expected a notebook of at most {MAX_NOTEBOOK_BYTES // 1024} KB (nbgrader's "
                       f"CourseDirectory.max_file_size), got {info.file_size // 1024} KB. Ask "
                       f"{student} to clear the outputs and submit it again.")
    data = _read_member(zip_path, archive, info)
    hint = name_hint(entry.filename, wanted_assignments) or name_hint(entry.filename, sources)
    wanted = [hint] if hint is not None and hint in wanted_assignments else wanted_assignments
    expected = expected_text(wanted)
    found_assignment = identify(parse(data), sources, hint, expected)
    if found_assignment.assignment not in wanted_assignments:
        raise Rejected(f"expected {expected}, {got_text(found_assignment)}. It is not graded in this "
                       f"run: add {found_assignment.assignment!r} to the assignments to grade it, or "
                       f"ask {student} for the notebook of "
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
        raise Rejected(f"expected a file the zip module can read, got one it cannot ({exc}). "
                       f"Extract it by hand, or ask for the file.") from exc


def _entry_time(info: zipfile.ZipInfo) -> datetime:
    """The member's modification time in UTC: the extended-timestamp field (0x5455) when the zip
    has one, else the DOS date and time, which carry no zone and are read as UTC."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        body = extra[4:4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], UTC)
        extra = extra[4 + size:]
    try:
        return datetime(*info.date_time, tzinfo=UTC)
    except ValueError:
        return datetime(1980, 1, 1, tzinfo=UTC)


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
        raise Rejected(f"expected a place inside {submitted}, got {target.resolve()}. Not written: "
                       f"check the student folder {candidate.student!r} (a link?).")
    folder.mkdir(parents=True, exist_ok=True)
    overwrote = target.is_file() and target.read_bytes() != candidate.data
    if overwrote:
        log.info("%s replaces a different notebook in %s", for_terminal(candidate.origin), target)
    write_atomic(target, candidate.data)
    stamp = candidate.time.strftime(TIMESTAMP_FORMAT)
    write_atomic(folder / "timestamp.txt", stamp)
    return Submission(candidate.student, candidate.assignment, target, candidate.origin), overwrote
