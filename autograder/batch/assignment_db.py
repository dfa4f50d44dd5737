"""An assignment's definition in the gradebook: make sure it is there, and copy it out for workers.

nbgrader's autograde restores test cells from the gradebook (``OverwriteCells``), so the
gradebook, not ``source/``, is what an assignment's tests are. A worker gets a private SQLite
gradebook holding only that definition (no students, no grades), which it may write as it likes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.authoring.build import make_course
from autograder.authoring.course import COURSE_ID
from autograder.authoring.nbgrader_run import put_tools_on_path, run_nbgrader
from autograder.errors import BadInput


class AssignmentMissing(BadInput, LookupError):
    """The gradebook has no definition of an assignment and ``source/`` cannot provide one."""


def has_assignment(db_url: str, assignment_id: str) -> bool:
    """Whether the gradebook at ``db_url`` defines ``assignment_id`` with at least one notebook."""
    with Gradebook(db_url, COURSE_ID) as gb:
        try:
            return len(gb.find_assignment(assignment_id).notebooks) > 0
        except MissingEntry:
            return False


def ensure_assignment(course_root: Path, assignment_id: str, db_url: str) -> None:
    """Define ``assignment_id`` in the gradebook at ``db_url`` from ``source/`` if it is not there.

    This runs the real ``nbgrader generate_assignment`` against that gradebook in a scratch copy of
    the course, so ``release/`` of ``course_root`` is left as it is.
    """
    if has_assignment(db_url, assignment_id):
        return
    source = course_root / "source" / assignment_id
    if not (source / f"{assignment_id}.ipynb").is_file():
        raise AssignmentMissing(
            f"{assignment_id}: expected its definition in the gradebook or "
            f"{source / (assignment_id + '.ipynb')}, found neither. Run `nbgrader "
            f"generate_assignment {assignment_id}` in the course folder first.")
    with tempfile.TemporaryDirectory(prefix="cnnkit-define-") as tmp:
        scratch = make_course(course_root, Path(tmp))
        run_nbgrader(["generate_assignment", assignment_id, "--force",
                      f"--CourseDirectory.db_url={db_url}"], scratch)


def definition(db_url: str, assignment_id: str) -> dict:
    """The assignment's notebooks and cells as plain data (JSON-ready, stable order)."""
    with Gradebook(db_url, COURSE_ID) as gb:
        record = gb.find_assignment(assignment_id)
        notebooks = []
        for nb in sorted(record.notebooks, key=lambda n: n.name):
            notebooks.append({
                "name": nb.name,
                "kernelspec": nb.kernelspec,
                "grade_cells": sorted([c.name, c.cell_type, c.max_score] for c in nb.grade_cells),
                "solution_cells": sorted(c.name for c in nb.solution_cells),
                "task_cells": sorted([c.name, c.cell_type, c.max_score] for c in nb.task_cells),
                # In the gradebook's own order: nbgrader re-adds a deleted test cell after the one
                # before it in this order.
                "source_cells": [[c.name, c.cell_type, bool(c.locked), c.source, c.checksum]
                                 for c in nb.source_cells],
            })
        return {"assignment": assignment_id,
                "duedate": record.duedate.isoformat() if record.duedate else None,
                "notebooks": notebooks}


def tests_digest(spec: dict) -> str:
    """A SHA-256 of an assignment's definition: it changes whenever a test cell, a locked cell or
    a point value changes."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def _empty_gradebook() -> bytes:
    """An empty SQLite gradebook (tables and alembic stamp), made once per process: making one
    runs ``alembic`` in a subprocess, which costs seconds."""
    put_tools_on_path()
    with tempfile.TemporaryDirectory(prefix="cnnkit-empty-") as tmp:
        path = Path(tmp) / "gradebook.db"
        with Gradebook(f"sqlite:///{path}", COURSE_ID):
            pass
        return path.read_bytes()


def write_template(spec: dict, path: Path) -> Path:
    """Write a fresh SQLite gradebook at ``path`` that holds only the assignment in ``spec``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_empty_gradebook())
    assignment_id = spec["assignment"]
    with Gradebook(f"sqlite:///{path}", COURSE_ID) as gb:
        gb.update_or_create_assignment(assignment_id)
        for nb in spec["notebooks"]:
            gb.update_or_create_notebook(nb["name"], assignment_id, kernelspec=nb["kernelspec"])
            for name, cell_type, max_score in nb["grade_cells"]:
                gb.update_or_create_grade_cell(name, nb["name"], assignment_id,
                                               cell_type=cell_type, max_score=max_score)
            for name in nb["solution_cells"]:
                gb.update_or_create_solution_cell(name, nb["name"], assignment_id)
            for name, cell_type, max_score in nb["task_cells"]:
                gb.update_or_create_task_cell(name, nb["name"], assignment_id,
                                              cell_type=cell_type, max_score=max_score)
            for name, cell_type, locked, source, checksum in nb["source_cells"]:
                gb.update_or_create_source_cell(name, nb["name"], assignment_id, cell_type=cell_type,
                                                locked=locked, source=source, checksum=checksum)
    return path


def layout(spec: dict) -> tuple[dict, ...]:
    """The assignment's nbgrader cells in notebook order, with what a cell's nbgrader metadata
    needs: ``name``, ``cell_type``, ``locked``, ``grade``, ``points``, ``solution``."""
    cells = []
    for nb in spec["notebooks"]:
        grades = {name: points for name, _, points in nb["grade_cells"]}
        solutions = set(nb["solution_cells"])
        for name, cell_type, locked, _, _ in nb["source_cells"]:
            cells.append({"name": name, "cell_type": cell_type, "locked": locked,
                          "grade": name in grades, "points": grades.get(name, 0),
                          "solution": name in solutions})
    return tuple(cells)
