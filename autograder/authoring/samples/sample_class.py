"""The bundled sample class: the reference solutions, the untouched release notebooks, correct
answers written differently, and students who each make one realistic mistake per assignment.

:func:`write` puts the submissions into an nbgrader course folder, where
``nbgrader autograde`` grades them as it would a real class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.authoring import course
from autograder.authoring.samples.catalogue import ALTERNATIVES, MISTAKES, TAMPERED
from autograder.authoring.samples.variants import Variant

REFERENCE = "reference"
UNMODIFIED = "unmodified"
ALTERNATIVE = "alternative"
TAMPERING = "tampering"


@dataclass(frozen=True)
class SampleSubmission:
    """One notebook of the sample class, and what grading it must give."""

    student: str
    """The student id."""
    assignment: str
    """The assignment id."""
    notebook: NotebookNode
    """The submitted notebook."""
    variant: Variant | None
    """The mistake or alternative it was made with; ``None`` for the reference and release."""
    expect_full_marks: bool
    """True for the reference and correct alternatives."""
    expect_zero: bool = False
    """True for the unmodified release notebook."""

    @property
    def description(self) -> str:
        """What this submission is, in a few words."""
        if self.variant is not None:
            return self.variant.description
        return "the reference solution" if self.expect_full_marks else "the release notebook, untouched"


def mistake_student(index: int) -> str:
    """The id of the sample student who makes the ``index``-th mistake (from 0) of each assignment."""
    return f"student-{index + 1:02d}"


def _read(folder: Path, assignment_id: str) -> NotebookNode:
    return nbformat.read(folder / assignment_id / f"{assignment_id}.ipynb", as_version=4)


def submissions(repo: Path, assignments: Iterable[str] | None = None) -> list[SampleSubmission]:
    """Every submission of the sample class for ``assignments``, from the repository's committed
    ``solutions/`` and ``release/``."""
    result = []
    for assignment_id in course.load(repo).ids if assignments is None else assignments:
        reference = _read(repo / "solutions", assignment_id)
        result.append(SampleSubmission(REFERENCE, assignment_id, reference, None, True))
        result.append(SampleSubmission(UNMODIFIED, assignment_id, _read(repo / "release", assignment_id),
                                       None, False, expect_zero=True))
        for variant in ALTERNATIVES:
            if variant.assignment == assignment_id:
                result.append(SampleSubmission(ALTERNATIVE, assignment_id, variant.apply(reference),
                                               variant, True))
        for variant in TAMPERED:
            if variant.assignment == assignment_id:
                result.append(SampleSubmission(f"{TAMPERING}-{variant.slug}", assignment_id,
                                               variant.apply(reference), variant, variant.correct))
        mistakes = [v for v in MISTAKES if v.assignment == assignment_id]
        for index, variant in enumerate(mistakes):
            result.append(SampleSubmission(mistake_student(index), assignment_id,
                                           variant.apply(reference), variant, False))
    return result


def write(course_root: Path, items: Iterable[SampleSubmission]) -> list[Path]:
    """Write each submission to ``submitted/<student>/<assignment>/<notebook>`` of the course."""
    paths = []
    for item in items:
        folder = course_root / "submitted" / item.student / item.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{item.assignment}.ipynb"
        nbformat.write(item.notebook, path)
        paths.append(path)
    return paths
