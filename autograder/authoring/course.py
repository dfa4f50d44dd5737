"""The course: what its ``source/`` holds, in the order its configuration gives, and its id.

A course is a folder with ``nbgrader_config.py`` and ``source/<id>/<id>.ipynb`` for each
assignment; nothing in the package lists the assignments. The kit's own repository is the
bundled course: the tutorial's six steps. The course's configuration may set, besides nbgrader's
own settings:

* ``c.CourseDirectory.course_id``: the course id (nbgrader's setting; the gradebook and the
  exchange record it);
* ``c.CNNKit.assignment_order``: the ids in teaching order (assignments it leaves out follow in
  alphabetical order);
* ``c.CNNKit.course_checks``: the name of a module or package in the course folder holding the
  course's own checks (:mod:`autograder.authoring.course_checks`).

Every command acts on one course (``--course``, else the current folder): :func:`use` sets it
for the process, :func:`current` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat

from autograder.errors import BadInput

#: The course id used when the configuration sets none.
DEFAULT_COURSE_ID = "cnn-module"

#: The heading prefix ``# Assignment 3: `` that a title is read without.
_NUMBERED = re.compile(r"^(assignment|exercise|lab)\s*\d+\s*[:.\-]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment of the course."""

    id: str
    """The nbgrader assignment id, also the notebook's name (``<id>.ipynb``)."""
    title: str
    """The notebook's first heading, without an ``Assignment N:`` prefix (else the id)."""
    subtitle: str = ""
    """The heading under it, if any (the bundled course: the tutorial's own Chinese heading)."""

    @property
    def notebook(self) -> str:
        """The notebook's file name."""
        return f"{self.id}.ipynb"


class UnknownAssignment(BadInput):
    """An assignment id that the course does not have."""


@dataclass(frozen=True)
class Course:
    """A course folder and what it holds."""

    root: Path
    """The folder with ``nbgrader_config.py`` and ``source/``."""
    id: str
    """The nbgrader course id."""
    assignments: tuple[Assignment, ...]
    """Its assignments, in teaching order."""
    checks_module: str = ""
    """The module of the course's own checks (``c.CNNKit.course_checks``); empty when none."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The assignment ids, in order."""
        return tuple(a.id for a in self.assignments)

    def assignment(self, assignment_id: str) -> Assignment:
        """The :class:`Assignment` called ``assignment_id``; :class:`UnknownAssignment` if the
        course's ``source/`` has no such assignment."""
        for item in self.assignments:
            if item.id == assignment_id:
                return item
        raise UnknownAssignment(
            f"assignment: expected one of {', '.join(self.ids) or '(none)'}, got {assignment_id!r}. "
            f"An assignment is a folder source/<id>/ with <id>.ipynb in the course {self.root}.")

    def rank(self, assignment_id: str) -> tuple[int, str]:
        """A sort key: the course's order, then unknown ids alphabetically."""
        if assignment_id in self.ids:
            return (self.ids.index(assignment_id), "")
        return (len(self.ids), assignment_id)


def _titles(notebook: Path) -> tuple[str, str]:
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:  # an unreadable notebook still names an assignment; nbgrader will say why
        return "", ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = [line.strip() for line in cell.source.splitlines() if line.strip()]
        headings = [line.lstrip("#").strip() for line in lines[:2] if line.startswith("#")]
        if headings:
            return _NUMBERED.sub("", headings[0]), headings[1] if len(headings) > 1 else ""
        return "", ""
    return "", ""


def _settings(root: Path) -> tuple[str, list[str], str]:
    """The course id, the assignment order and the course checks module from the configuration."""
    from traitlets.config.loader import PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    except Exception as exc:
        raise BadInput(f"{root / 'nbgrader_config.py'}: expected a configuration nbgrader can load, "
                       f"got an error ({type(exc).__name__}: {exc}). Fix the file, then run again.") from None
    course_id = config.CourseDirectory.get("course_id") or DEFAULT_COURSE_ID
    kit = config.get("CNNKit", {})
    order = [str(a) for a in (kit.get("assignment_order") or [])]
    return str(course_id), order, str(kit.get("course_checks") or "")


@lru_cache(maxsize=8)
def _load(root: Path, stamp: tuple) -> Course:
    course_id, order, checks_module = _settings(root)
    source = root / "source"
    found = sorted(p.name for p in source.iterdir()
                   if p.is_dir() and (p / f"{p.name}.ipynb").is_file()) if source.is_dir() else []
    ordered = [a for a in order if a in found] + [a for a in found if a not in order]
    assignments = []
    for assignment_id in ordered:
        title, subtitle = _titles(source / assignment_id / f"{assignment_id}.ipynb")
        assignments.append(Assignment(assignment_id, title or assignment_id, subtitle))
    return Course(root, course_id, tuple(assignments), checks_module)


def load(root: Path) -> Course:
    """The course in ``root``; :class:`~autograder.errors.BadInput` when it is not one."""
    root = Path(root).resolve()
    config = root / "nbgrader_config.py"
    if not config.is_file():
        raise BadInput(f"course: expected a folder with nbgrader_config.py, got {root}. Run from the "
                       f"course folder or pass --course.")
    source = root / "source"
    stamp = (config.stat().st_mtime_ns,
             tuple(sorted((p.name, p.stat().st_mtime_ns) for p in source.glob("*/*.ipynb")))
             if source.is_dir() else ())
    return _load(root, stamp)


_current: Path | None = None


def use(root: Path) -> Course:
    """Make the course in ``root`` the one this process works on; that course."""
    global _current
    course = load(root)
    _current = course.root
    return course


def current() -> Course:
    """The course this process works on: the one :func:`use` set, else the current folder if it
    is a course, else the bundled course."""
    if _current is not None:
        return load(_current)
    here = Path.cwd()
    return load(here if (here / "nbgrader_config.py").is_file() else bundled_root())


def of(root: Path) -> Course:
    """The course in ``root`` when it is one, else :func:`current` (a folder laid out for grading
    without a configuration of its own)."""
    return load(root) if (Path(root) / "nbgrader_config.py").is_file() else current()


def bundled_root() -> Path:
    """The kit's own repository, the bundled course of six assignments (where the package is
    installed from a checkout)."""
    return Path(__file__).resolve().parents[2]


def assignment(assignment_id: str) -> Assignment:
    """``current().assignment(assignment_id)``."""
    return current().assignment(assignment_id)


def repo_root() -> Path:
    """The bundled course's folder (:func:`bundled_root`), for the kit's own samples and tests."""
    return bundled_root()


def __getattr__(name: str) -> object:
    # ``ASSIGNMENT_IDS`` and ``COURSE_ID``: the current course's, read when asked for.
    if name == "ASSIGNMENT_IDS":
        return current().ids
    if name == "COURSE_ID":
        return current().id
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
