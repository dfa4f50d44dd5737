"""Helpers for tests that play a student: fill a release notebook with the reference answers."""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.authoring.course import assignment


def completed_release(repo: Path, assignment_id: str, release_path: Path) -> None:
    """Fill the answer cells of the release notebook at ``release_path`` with the reference
    answers, in place, as a student who solved everything would."""
    name = assignment(assignment_id).notebook
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(repo / "solutions" / assignment_id / name, 4).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    notebook = nbformat.read(release_path, 4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(notebook, release_path)
