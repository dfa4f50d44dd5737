"""The gradebook's cells put a submitted notebook right (``SettleMetadata``, which plain
``nbgrader autograde`` and ``cnnkit grade`` both run): deleted or stripped locked cells back in
their place, every cell's nbgrader metadata the gradebook's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import nbformat
import pytest
from support.notebooks import notebook as _nb

from autograder.batch.assignment_db import write_template
from autograder.judge import gradebook_cells
from autograder.judge.gradebook_cells import SettleMetadata

LOCKED = {"setup": "import numpy as np",
          "test_a": "assert x == 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS",
          "test_b": "assert x > 0"}
SPEC = {"assignment": "a", "duedate": None, "notebooks": [{
    "name": "a", "kernelspec": json.dumps({"name": "python3", "display_name": "Python 3"}),
    "grade_cells": [["test_a", "code", 2.0], ["test_b", "code", 1.0]],
    "solution_cells": ["answer"], "task_cells": [],
    "source_cells": [["setup", "code", True, LOCKED["setup"], "c1"],
                     ["answer", "code", False, "x = 0", "c2"],
                     ["test_a", "code", True, LOCKED["test_a"], "c3"],
                     ["test_b", "code", True, LOCKED["test_b"], "c4"]],
}]}


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """nbgrader's resources for notebook ``a`` of a gradebook holding :data:`SPEC`."""
    path = write_template(SPEC, tmp_path_factory.mktemp("book") / "gradebook.db")
    return {"nbgrader": {"db_url": f"sqlite:///{path}", "assignment": "a", "notebook": "a", "student": "s"}}


def _ids(nb: nbformat.NotebookNode) -> list[str | None]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_put_back_restores_deleted_and_stripped_locked_cells_in_order(resources: dict) -> None:
    nb = nbformat.from_dict(_nb(("import numpy as np", None), ("x = 1", "answer"),
                                ("assert x > 0", "test_b")))
    book = gradebook_cells.GradebookCells(resources)
    assert book.put_back(nb) == ["setup", "test_a"]
    assert _ids(nb) == ["setup", "answer", "test_a", "test_b"]
    assert nb["cells"][2]["metadata"]["nbgrader"]["points"] == 2
    assert nb.cells[2].source == LOCKED["test_a"] and nb.cells[2].outputs == [] and nb.cells[2].id
    assert not book.put_back(nb)


def test_a_notebook_without_cell_ids_gets_none_for_a_restored_cell(resources: dict) -> None:
    nb = nbformat.from_dict(_nb(("x = 1", "answer")))
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    gradebook_cells.GradebookCells(resources).put_back(nb)
    assert _ids(nb) == ["setup", "answer", "test_a", "test_b"] and not any("id" in c for c in nb.cells)


def test_settle_metadata_gives_every_cell_the_gradebooks_metadata(resources: dict, caplog) -> None:
    nb = nbformat.from_dict(_nb(("import numpy as np", "setup"), ("x = 1", "answer"),
                                ("assert x == 1", "test_a"), ("pass", "bonus"), ("assert x > 0", "test_b")))
    nb.cells[2].metadata.nbgrader.update(solution=True, locked=False, points=100)  # marked as an answer
    nb.cells[3].metadata.nbgrader.update(grade=True, points=100)  # a test of the student's own
    nb.cells[4].cell_type = "markdown"
    with caplog.at_level(logging.INFO):
        nb, _ = SettleMetadata().preprocess(nb, resources)
    assert _ids(nb) == ["setup", "answer", "test_a", None, "test_b"]
    assert dict(nb.cells[2].metadata.nbgrader) == {
        "grade": True, "grade_id": "test_a", "locked": True, "solution": False, "task": False,
        "schema_version": 3, "points": 2.0}
    assert "nbgrader" not in nb.cells[3].metadata
    assert nb.cells[4].cell_type == "code" and nb.cells[4].metadata.nbgrader.points == 1.0
    assert "'bonus' is not part of the assignment" in caplog.text


def test_the_course_runs_settle_metadata_first_when_sanitizing(repo: Path) -> None:
    from autograder.batch.record import course_config

    assert course_config(repo).Autograde.sanitize_preprocessors[0] is SettleMetadata
