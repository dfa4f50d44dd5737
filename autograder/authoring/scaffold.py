"""``cnnkit new``: a new assignment's source notebook, ready for ``nbgrader generate_assignment``.

The notebook has what every assignment of the kit has: a read-only introduction, a read-only
setup cell (the kit's checks, NumPy, Keras, and the course's own checks if it has some), one
answer cell between solution markers, a visible test and a hidden test, each worth points and
opening with a line that says what it checks. The instructor replaces the example answer and
tests with the exercise's own.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.authoring import course
from autograder.errors import BadInput

#: What an assignment id may be: nbgrader uses it as a folder and a file name.
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _cell(kind: str, grade_id: str, source: str, *, grade: bool = False, solution: bool = False,
          locked: bool = True, points: float | None = None) -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.pop("id", None)
    return cell


def notebook(assignment_id: str, title: str, checks_module: str = "") -> nbformat.NotebookNode:
    """The scaffold notebook of ``assignment_id``."""
    setup = "from autograder import checks\nimport numpy as np\nfrom tensorflow import keras\n"
    if checks_module:
        setup += f"import {checks_module}\n"
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4  # as the course's other notebooks: cells without ids
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"}, "language_info": {"name": "python"}}
    nb.cells = [
        _cell("markdown", "intro", f"# {title}\n\nWhat this assignment teaches, in two sentences."),
        _cell("code", "setup", setup),
        _cell("markdown", "task_md", "## 1. The task\n\nDefine `normalize(a)`: the array `a` scaled "
                                     "linearly so that its smallest value becomes 0 and its largest 1."),
        _cell("code", "answer", "def normalize(a):\n    ### BEGIN SOLUTION\n"
                                "    return (a - a.min()) / (a.max() - a.min())\n    ### END SOLUTION\n",
              solution=True, locked=False),
        _cell("code", "test_answer", "# normalize: the smallest value becomes 0 and the largest 1.\n"
                                     "out = normalize(np.array([2.0, 4.0, 6.0]))\n"
                                     "checks.close(\"normalize([2, 4, 6])\", out, [0.0, 0.5, 1.0],\n"
                                     "             cause=\"Subtract the minimum, then divide by the "
                                     "range.\")\n",
              grade=True, points=1),
        _cell("code", "test_answer_hidden", "# normalize on an input drawn at grading time (hidden).\n"
                                            "### BEGIN HIDDEN TESTS\n"
                                            "x = np.random.default_rng().uniform(-5, 5, size=(4, 7))\n"
                                            "checks.close(\"normalize(x)\", normalize(x), "
                                            "(x - x.min()) / (x.max() - x.min()))\n"
                                            "### END HIDDEN TESTS\n",
              grade=True, points=2),
    ]
    return nb


def new(course_root: Path, assignment_id: str, *, title: str = "") -> Path:
    """Write ``source/<assignment_id>/<assignment_id>.ipynb`` in the course; its path.
    :class:`~autograder.errors.BadInput` for a bad id or an assignment that exists already."""
    the_course = course.load(course_root)
    if not ID_PATTERN.fullmatch(assignment_id):
        raise BadInput(f"assignment id: expected lower-case letters, digits and underscores, starting "
                       f"with a letter, got {assignment_id!r}. nbgrader uses it as a folder name.")
    path = the_course.root / "source" / assignment_id / f"{assignment_id}.ipynb"
    if path.exists():
        raise BadInput(f"assignment {assignment_id}: expected a new assignment, got one that exists "
                       f"({path}). Choose another id, or edit that notebook.")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(assignment_id, title or assignment_id.replace("_", " ").capitalize(),
                            the_course.checks_module), path)
    return path
