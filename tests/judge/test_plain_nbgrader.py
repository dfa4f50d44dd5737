"""`nbgrader autograde` run by hand on the course uses the same judge, through the kit's
preprocessors: the tests run outside the kernel, whatever the kernel does."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.authoring import build
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.batch.results import read_submission

pytestmark = pytest.mark.slow

WRONG = "china = np.zeros((427, 640, 3))\nflower = np.zeros((427, 640, 3))"
BLANK_TESTS = "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"


def _submit(course: Path, repo: Path, student: str, answer: str | None, extra: str | None) -> None:
    nb = nbformat.read(repo / "solutions" / "images" / "images.ipynb", 4)
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "load_images":
            if answer is not None:
                cell.source = answer
            if extra is not None:
                nb.cells.insert(index + 1, nbformat.v4.new_code_cell(extra))
            break
    folder = course / "submitted" / student / "images"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "images.ipynb")


def test_a_kernel_that_blanks_the_tests_earns_nothing_under_plain_nbgrader(repo: Path,
                                                                           tmp_path: Path) -> None:
    course = build.make_course(repo, tmp_path / "course")
    run_nbgrader(["generate_assignment", "images", "--force"], course)
    _submit(course, repo, "honest", None, None)
    _submit(course, repo, "wrong", WRONG, None)
    _submit(course, repo, "blanker", WRONG, BLANK_TESTS)
    _submit(course, repo, "retyped", None, None)
    retyped = course / "submitted" / "retyped" / "images" / "images.ipynb"
    nb = nbformat.read(retyped, 4)
    for cell in nb.cells:  # test cells turned into Markdown and raw text, as Jupyter's menu does
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("test_load_images", "test_stack_images"):
            kind = "markdown" if cell.metadata["nbgrader"]["grade_id"] == "test_load_images" else "raw"
            nb.cells[nb.cells.index(cell)] = getattr(nbformat.v4, f"new_{kind}_cell")(
                cell.source, metadata=cell.metadata)
    nbformat.write(nb, retyped)
    run_nbgrader(["autograde", "images", "--force"], course, env={"CNNKIT_BUDGET": "smoke"})
    scores = {s: {t.grade_id: t.score for t in read_submission(course, "images", s).tests}
              for s in ("honest", "wrong", "blanker", "retyped")}
    assert sum(scores["honest"].values()) == 5
    # A test cell whose type was changed is put back from the gradebook and run.
    assert scores["retyped"] == scores["honest"]
    # Blanking the later cells also blanks the later answers: no test earns more than without it.
    assert all(scores["blanker"][t] <= scores["wrong"][t] for t in scores["wrong"])
    assert scores["wrong"]["test_load_images"] == 0
    executed = nbformat.read(course / "autograded" / "blanker" / "images" / "images.ipynb", 4)
    test = next(c for c in executed.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_load_images")
    # The judge's requests are not code, so the transformer does not reach them: the wrong answer
    # is read and fails on its merits.
    assert test.outputs[0]["ename"] == "CheckFailure"
