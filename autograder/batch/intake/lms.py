"""The names inside an LMS bulk download (Canvas, Moodle), and the roster that maps LMS people to
nbgrader student ids.

Canvas ("Download Submissions") writes one flat file per submitted file::

    <login>_<canvas user id>_<submission id>_<original file name>
    <login>_LATE_<canvas user id>_<submission id>_<original file name>

and renames a file uploaded again under the same name ``resnet34-1.ipynb``, ``resnet34-2.ipynb``.
Moodle ("Download all submissions") writes a folder per submission, or, with "download submissions
in folders" off, flat names::

    Full Name_<participant id>_assignsubmission_file_/<original file name>
    Full Name_<participant id>_assignsubmission_file_<original file name>

The functions here only read names and the roster; :mod:`autograder.batch.intake.lms_zip` decides
what is graded.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograder.errors import BadInput

#: ``<login>_[LATE_]<user id>_<submission id>_<file>``; the login is the shortest prefix that fits.
CANVAS_NAME = re.compile(r"^(?P<login>.+?)_(?:(?P<late>LATE)_)?(?P<user_id>\d+)_(?P<submission_id>\d+)_"
                         r"(?P<filename>.+)$")

#: ``Full Name_<participant id>_assignsubmission_<plugin>_<rest>``, for one path component.
MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                         r"(?:_(?P<rest>.*))?$")

#: Canvas's suffix for a file uploaded again under the same name: ``resnet34-2.ipynb``.
ATTEMPT_SUFFIX = re.compile(r"-(?P<attempt>\d+)$")

#: What a browser or a file manager appends to a copy: ``Resnet34 (1)``, ``resnet34 - Copy``.
COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|\s*-?\s*copy(\s*\d+)?)$", re.IGNORECASE)


class RosterError(BadInput):
    """The roster file cannot be used: missing, without its columns, or with a bad row."""


@dataclass(frozen=True)
class LmsEntry:
    """What the name of one zip member says about who submitted it."""

    lms: str
    """``"Canvas"`` or ``"Moodle"``."""
    person: str
    """The LMS's id of the person: the Canvas login, or the Moodle participant id. It is the
    nbgrader student id when there is no roster."""
    aliases: tuple[str, ...]
    """Every value a roster's ``lms_id`` may use for this person, in the order they are looked up:
    Canvas login and user id; Moodle participant id and full name."""
    filename: str
    """The file name the person uploaded (Canvas's ``-N`` suffix included)."""
    attempt: int
    """Canvas's re-upload counter: 0 for ``resnet34.ipynb``, 2 for ``resnet34-2.ipynb``."""
    late: bool = False
    """Canvas marked the submission LATE."""

    def describe(self) -> str:
        """The person, as the LMS names them, for messages: ``Canvas login 'smithj'``."""
        if self.lms == "Canvas":
            return f"Canvas login {self.person!r}"
        return f"Moodle participant {self.person} ({self.aliases[1]!r})"


def parse_member(member: str) -> LmsEntry | None:
    """Read a zip member's name as Canvas or Moodle writes it; ``None`` when it is neither.

    The first path component in Moodle's form wins (a re-zipped download may add a top folder);
    otherwise the base name is read as Canvas's.

    >>> parse_member("smithj_LATE_1234_5678_resnet34-2.ipynb").attempt
    2
    >>> parse_member("Jane Smith_991_assignsubmission_file_/hw.ipynb").person
    '991'
    """
    parts = PurePosixPath(member).parts
    for index, part in enumerate(parts):
        match = MOODLE_NAME.match(part)
        if not match:
            continue
        flat = bool(match["rest"])
        if flat and index != len(parts) - 1:
            return None
        rest = match["rest"] if flat else "/".join(parts[index + 1:])
        if not rest:
            return None
        filename = PurePosixPath(rest).name
        return LmsEntry("Moodle", match["participant"], (match["participant"], match["name"].strip()),
                        filename, attempt_of(filename))
    if not parts:
        return None
    match = CANVAS_NAME.match(parts[-1])
    if not match:
        return None
    return LmsEntry("Canvas", match["login"], (match["login"], match["user_id"]), match["filename"],
                    attempt_of(match["filename"]), late=bool(match["late"]))


def attempt_of(filename: str) -> int:
    """Canvas's re-upload counter in ``filename``: ``resnet34-2.ipynb`` → 2; none → 0."""
    match = ATTEMPT_SUFFIX.search(PurePosixPath(filename).stem)
    return int(match["attempt"]) if match else 0


def name_stem(filename: str) -> str:
    """The file name reduced to what may name an assignment: lower case, without the extension,
    Canvas's ``-N``, a copy's ``(1)``, with runs of other characters turned into ``_``.

    >>> name_stem("Resnet34 (1).ipynb"), name_stem("mnist-cnn-2.ipynb")
    ('resnet34', 'mnist_cnn')
    """
    stem = PurePosixPath(filename).stem
    stem = ATTEMPT_SUFFIX.sub("", stem)
    stem = COPY_SUFFIX.sub("", stem)
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")


def load_roster(path: Path) -> dict[str, str]:
    """The roster CSV at ``path`` as ``{lms id (case-folded): nbgrader student id}``.

    The CSV has a header with the columns ``lms_id`` and ``student_id`` (others are ignored);
    ``lms_id`` is a Canvas login or user id, a Moodle participant id or full name. Raises
    :class:`RosterError` for a missing file, missing columns, an empty or unsafe student id, or an
    ``lms_id`` given to two students.
    """
    if not path.is_file():
        raise RosterError(f"roster {path}: expected a CSV file with the columns lms_id,student_id, "
                          f"got no such file. Check the path given as the roster.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        if not {"lms_id", "student_id"} <= set(columns):
            raise RosterError(f"roster {path}: expected the columns lms_id,student_id in its first "
                              f"line, got {','.join(columns) or 'an empty file'}. Add that header line.")
        roster: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
            lms_id, student = row.get("lms_id", ""), row.get("student_id", "")
            if not lms_id and not student:
                continue
            problem = student_id_problem(student)
            if not lms_id or problem:
                what = "an empty lms_id" if not lms_id else problem
                raise RosterError(f"roster {path}, line {line}: expected an lms_id and a student_id "
                                  f"usable as a folder name, got {what}. Fix that row.")
            key = lms_id.casefold()
            if roster.get(key, student) != student:
                raise RosterError(f"roster {path}, line {line}: expected each lms_id once, got "
                                  f"{lms_id!r} for {roster[key]!r} and {student!r}. Keep one row.")
            roster[key] = student
    return roster


def roster_student(entry: LmsEntry, roster: Mapping[str, str]) -> str | None:
    """The nbgrader student id of ``entry``'s person in ``roster``, or ``None``."""
    for alias in entry.aliases:
        student = roster.get(alias.casefold())
        if student is not None:
            return student
    return None


def student_id_problem(student: str) -> str | None:
    """Why ``student`` cannot be an nbgrader student id (a folder under ``submitted/``), or
    ``None`` when it can."""
    if not student:
        return "an empty student id"
    if student in {".", ".."} or student.startswith("."):
        return f"{student!r}, which starts with a dot"
    if any(ch in student for ch in "/\\+*") or any(ord(ch) < 32 for ch in student):
        return f"{student!r}, which holds a path separator, '+', '*' or a control character"
    if student != student.strip():
        return f"{student!r}, which starts or ends with a space"
    return None
