"""Small notebooks for the tests, built cell by cell."""

from __future__ import annotations

import json

import nbformat


def notebook(*cells: tuple[str, str | None]) -> dict:
    """A notebook as plain JSON data: one code cell per ``(source, grade id)``; a grade id starting
    with ``test`` makes a locked test cell, any other an answer cell, None a cell of the
    student's own."""
    nb = nbformat.v4.new_notebook()
    for source, grade_id in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": grade_id.startswith("test"),
                                         "grade": grade_id.startswith("test"), "solution": False}
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))
