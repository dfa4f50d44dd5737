"""Checking one notebook and telling which assignment it is, whatever source it came from.

The checks run in this order, each assuming the one before: its size (nbgrader skips files over
``CourseDirectory.max_file_size``), UTF-8, JSON, a notebook nbformat reads, nbgrader metadata that
nbgrader can use (:func:`check_cells`), and its assignment, told by content: the grade ids of its
nbgrader cells against those of each ``source/<a>/<a>.ipynb`` (the largest overlap wins; the file
name or folder breaks a tie). A check that fails raises :class:`Rejected`, whose message says what
the file is instead and the fix; the sources turn it into an unplaced file.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.authoring import course
from autograder.batch.intake import lms
from autograder.batch.intake.result import IntakeError

#: nbgrader's ``CourseDirectory.max_file_size`` (100000 KB): it skips larger files with a warning.
MAX_NOTEBOOK_BYTES = 100000 * 1024

#: The longest grade id taken (nbgrader's gradebook keeps cell names in 128 characters).
MAX_GRADE_ID = 100

_SAVE_AGAIN = "ask the student to open it in Jupyter, save it, and submit it again."
_USE_RELEASED = ("ask the student to put their answers into a fresh copy of the released notebook "
                 "and submit that.")


class Rejected(Exception):
    """A file is not a usable notebook; the message says what it is instead, and the fix."""


class NoCells(Rejected):
    """A notebook with no nbgrader cell at all (its metadata stripped)."""


@dataclass(frozen=True)
class Identified:
    """The assignment a notebook belongs to, told by its cells."""

    assignment: str
    """The assignment id."""
    tests_match: bool
    """Some of its test cells (graded, not answers) are that assignment's."""


def parse(data: bytes) -> nbformat.NotebookNode:
    """``data`` as a notebook whose nbgrader metadata nbgrader can use, or :class:`Rejected`
    saying what it is instead."""
    if not data:
        raise Rejected("expected a notebook, got an empty file (0 bytes). The upload or the save "
                       "failed: " + _SAVE_AGAIN)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise Rejected(f"expected a notebook of at most {MAX_NOTEBOOK_BYTES // 1024} KB (nbgrader's "
                       f"CourseDirectory.max_file_size), got {len(data) // 1024} KB. nbgrader would "
                       f"skip it: ask the student to clear the outputs (Kernel > Restart Kernel and "
                       f"Clear All Outputs) and submit it again.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"expected a notebook in UTF-8, got bytes that are not UTF-8 (byte "
                       f"0x{data[exc.start]:02x} at offset {exc.start}). It is not a file that "
                       f"Jupyter saved (perhaps another format renamed to .ipynb, or re-encoded): "
                       f"{_SAVE_AGAIN}") from exc
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected(f"expected a notebook (JSON), got text that is not JSON ({exc.msg} at line "
                       f"{exc.lineno}, column {exc.colno}). It was cut short or edited outside "
                       f"Jupyter: {_SAVE_AGAIN}") from exc
    if not isinstance(content, dict) or not isinstance(content.get("cells", []), list):
        got = type(content).__name__ if not isinstance(content, dict) else "no list of cells"
        raise Rejected(f"expected a Jupyter notebook, got JSON that is not one ({got}). "
                       f"{_SAVE_AGAIN[0].upper()}{_SAVE_AGAIN[1:]}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
        broken = [i for i, cell in enumerate(notebook.cells)
                  if not isinstance(cell, Mapping) or "cell_type" not in cell or "source" not in cell]
        if broken:
            raise ValueError(f"cell {broken[0]} has no cell_type or no source")
    except Exception as exc:  # nbformat raises many kinds on a malformed notebook
        raise Rejected(f"expected a Jupyter notebook, got JSON that nbformat cannot read "
                       f"({type(exc).__name__}: {exc}). {_SAVE_AGAIN[0].upper()}{_SAVE_AGAIN[1:]}"
                       ) from exc
    check_cells(notebook)
    return notebook


def check_cells(notebook: nbformat.NotebookNode) -> None:
    """:class:`Rejected` unless every cell's ``metadata.nbgrader``, where there is one, is a
    mapping, every grade id in it a non-empty string of printable characters (at most
    :data:`MAX_GRADE_ID`), and no grade id is on two cells. nbgrader would fail on such a notebook
    later, in the worker, with an error that names neither the cell nor the fix."""
    seen: dict[str, int] = {}
    for number, cell in enumerate(notebook.cells, start=1):
        metadata = cell.get("metadata")
        if not isinstance(metadata, Mapping) or "nbgrader" not in metadata:
            continue
        value = metadata["nbgrader"]
        if not isinstance(value, Mapping):
            raise Rejected(f"expected the nbgrader metadata of cell {number} to be a mapping, got "
                           f"{_json_kind(value)}. The notebook was edited outside Jupyter or by a "
                           f"tool that broke it: {_USE_RELEASED}")
        if "grade_id" not in value:
            continue
        grade_id = value["grade_id"]
        problem = grade_id_problem(grade_id)
        if problem:
            raise Rejected(f"expected the grade id of cell {number} to be a non-empty string of "
                           f"printable characters (at most {MAX_GRADE_ID}), got {problem}. The "
                           f"notebook's metadata was edited: {_USE_RELEASED}")
        if grade_id in seen:
            raise Rejected(f"expected each grade id on one cell, got {grade_id!r} on cells "
                           f"{seen[grade_id]} and {number}. A cell was copied with its metadata "
                           f"(Jupyter copies it): delete the copy, or {_USE_RELEASED}")
        seen[grade_id] = number


def grade_id_problem(grade_id: object) -> str | None:
    """What is wrong with ``grade_id`` as an nbgrader grade id, as the message's "got" part, or
    None when nothing is."""
    if not isinstance(grade_id, str):
        return _json_kind(grade_id)
    if not grade_id:
        return "an empty string"
    if len(grade_id) > MAX_GRADE_ID:
        return f"{len(grade_id)} characters ({grade_id[:20]!r}...)"
    if not grade_id.isprintable():
        return (f"{grade_id!r}, which holds a character that is not printable (a control "
                f"character, a bidi override, a space other than ' ')")
    return None


def _json_kind(value: object) -> str:
    """What ``value`` is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    return type(value).__name__


def grade_ids(notebook: nbformat.NotebookNode) -> frozenset[str]:
    """The grade ids of the notebook's nbgrader cells."""
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


def source_grade_ids(course_root: Path, wanted: Sequence[str]) -> dict[str, frozenset[str]]:
    """The nbgrader grade ids of each assignment's source notebook, in course order; every
    ``wanted`` assignment must have one (else :class:`IntakeError`)."""
    if not course_root.is_dir():
        raise IntakeError(f"course folder: expected a folder, got {course_root} (no such folder). "
                          f"Give the folder that holds nbgrader_config.py and source/.")
    sources: dict[str, frozenset[str]] = {}
    present = [p.name for p in (course_root / "source").glob("*") if (p / f"{p.name}.ipynb").is_file()]
    rank = course.of(course_root).rank
    for assignment_id in sorted(set(present) | set(wanted), key=rank):
        path = course_root / "source" / assignment_id / f"{assignment_id}.ipynb"
        if not path.is_file():
            if assignment_id in wanted:
                raise IntakeError(f"course folder {course_root}: expected source/{assignment_id}/"
                                  f"{assignment_id}.ipynb, got no such file. Run the intake in a "
                                  f"course folder (the repository, or one made by "
                                  f"autograder.authoring.build.make_course).")
            continue
        try:
            notebook = parse(path.read_bytes())
        except Rejected as exc:
            raise IntakeError(f"course folder {course_root}: expected a readable source notebook "
                              f"source/{assignment_id}/{assignment_id}.ipynb, got one that is not: "
                              f"{exc}") from exc
        sources[assignment_id] = grade_ids(notebook)
    return sources


def identify(notebook: nbformat.NotebookNode, sources: Mapping[str, frozenset[str]],
             hint: str | None, expected: str) -> Identified:
    """The assignment whose source shares the most grade ids with ``notebook``; a tie goes to
    ``hint``. Raises :class:`Rejected` (its message starting with ``expected``) when there is no
    nbgrader cell (:class:`NoCells`), no overlap, or a tie that ``hint`` does not break."""
    ids = grade_ids(notebook)
    if not ids:
        raise NoCells(f"expected {expected}, got a notebook without nbgrader cells (no grade ids in "
                      f"its metadata). It was made anew or copied cell by cell: ask the student to "
                      f"put their answers into the released notebook and submit that.")
    overlap = {a: len(ids & source) for a, source in sources.items()}
    best = max(overlap.values(), default=0)
    if best == 0:
        raise Rejected(f"expected {expected}, got a notebook whose nbgrader cells match no assignment "
                       f"of this course (grade ids {_some(ids)}). It is from "
                       f"another course or another version: ask for the notebook released here.")
    leaders = [a for a, n in overlap.items() if n == best]
    if len(leaders) > 1:
        if hint not in leaders:
            raise Rejected(f"expected {expected}, got a notebook whose cells match "
                           f"{' and '.join(repr(a) for a in leaders)} equally (only the cells they "
                           f"share are left). Ask the student for the notebook of the assignment, "
                           f"named after it.")
        leaders = [hint]
    winner = leaders[0]
    return Identified(winner, bool(_test_ids(notebook) & sources[winner]))


def _some(names: Iterable[str], count: int = 5) -> str:
    names = sorted(names)
    return ", ".join(names[:count]) + (", ..." if len(names) > count else "")


def expected_text(assignments: Sequence[str]) -> str:
    """The "expected" part of a message about a notebook for one of ``assignments``."""
    if len(assignments) == 1:
        return f"the notebook of assignment {assignments[0]!r}"
    return f"the notebook of one of the assignments {', '.join(repr(a) for a in assignments)}"


def got_text(found: Identified) -> str:
    """The "got" part of a message about a notebook of another assignment than expected."""
    cells = "test cells" if found.tests_match else "cells"
    return (f"got the notebook of assignment {found.assignment!r} (its {cells} are "
            f"{found.assignment}'s)")


def name_hint(filename: str, assignments: Iterable[str]) -> str | None:
    """The assignment a file name points to: ``Resnet34 (1).ipynb`` → ``resnet34``."""
    stem = lms.name_stem(filename)
    named = [a for a in assignments if a == stem] or [a for a in assignments if a in stem]
    return max(named, key=len) if named else None
