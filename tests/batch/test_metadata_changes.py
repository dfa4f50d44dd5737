"""A submission's nbgrader metadata is the student's to edit: changes are flagged, and the
gradebook's metadata is what grades."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from autograder.batch.review.locked import metadata_changes

LAYOUT = (
    {"name": "answer", "cell_type": "code", "locked": False, "grade": False, "points": 0, "solution": True},
    {"name": "test", "cell_type": "code", "locked": True, "grade": True, "points": 2.0, "solution": False},
)


def _cell(grade_id: str, **meta) -> dict:
    base = {"grade_id": grade_id, "schema_version": 3, "task": False}
    return {"cell_type": "code", "source": "", "metadata": {"nbgrader": {**base, **meta}}}


def honest() -> dict:
    return {"cells": [_cell("answer", grade=False, locked=False, solution=True),
                      _cell("test", grade=True, locked=True, solution=False, points=2)]}


def test_an_honest_notebook_has_no_change() -> None:
    assert metadata_changes(honest(), LAYOUT) == ([], [])


def test_each_released_notebook_matches_its_own_layout(repo: Path) -> None:
    from autograder.batch.assignment_db import layout
    for notebook in (repo / "release").glob("*/*.ipynb"):
        nb = json.loads(notebook.read_text())
        spec = {"notebooks": [{"grade_cells": [], "solution_cells": [], "source_cells": []}]}
        found = [(c["metadata"]["nbgrader"], c["cell_type"]) for c in nb["cells"]
                 if "nbgrader" in c["metadata"]]
        spec["notebooks"][0]["grade_cells"] = [[m["grade_id"], t, m["points"]]
                                               for m, t in found if m["grade"]]
        spec["notebooks"][0]["solution_cells"] = [m["grade_id"] for m, _ in found if m["solution"]]
        spec["notebooks"][0]["source_cells"] = [[m["grade_id"], t, m["locked"], "", ""] for m, t in found]
        assert metadata_changes(nb, layout(spec)) == ([], []), notebook


def test_a_test_marked_as_an_answer_or_given_more_points_is_flagged() -> None:
    nb = honest()
    nb["cells"][1]["metadata"]["nbgrader"].update(solution=True, points=100)
    flags, notes = metadata_changes(nb, LAYOUT)
    assert flags == ["cell test: its nbgrader metadata was changed (solution: True, points: 100); "
                     "the gradebook's was used."] and notes == []


def test_a_cell_the_assignment_does_not_have_is_noted() -> None:
    nb = honest()
    nb["cells"].append(copy.deepcopy(nb["cells"][1]))
    nb["cells"][-1]["metadata"]["nbgrader"]["grade_id"] = "bonus"
    assert metadata_changes(nb, LAYOUT) == ([], ["cell bonus: not a cell of the assignment; it ran as the "
                                                 "student's own code and earns nothing."])


def test_a_test_cell_whose_type_was_changed_is_noted() -> None:
    nb = honest()
    nb["cells"][1]["cell_type"] = "markdown"
    assert metadata_changes(nb, LAYOUT) == ([], ["cell test: its type was changed from code to markdown; "
                                                 "it was put back from the gradebook and run."])
