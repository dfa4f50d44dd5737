"""A test that cannot be judged outside the kernel is the test's error: noted per submission and
listed apart from the students' own failures in the class report."""

from __future__ import annotations

import nbformat

from autograder.batch.class_report import render_class_report
from autograder.batch.outcome import Outcome
from autograder.batch.results import TestScore
from autograder.batch.review.problems import cell_problems


def _graded(ename: str, evalue: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("conv.filters = 3")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_conv", "points": 1}
    cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
    return nbformat.v4.new_notebook(cells=[cell])


def test_a_test_error_is_noted_as_the_tests() -> None:
    [note] = cell_problems(_graded("TestCellError", "conv.filters = ...: a test judged outside the "
                                                    "kernel cannot change the student's objects"))
    assert note == ("test error (the test's, not the student's) in cell 1 (test_conv): conv.filters = ...: "
                    "a test judged outside the kernel cannot change the student's objects")
    assert cell_problems(_graded("CheckFailure", "conv.filters: expected 3, got 2.")) == []


def test_the_class_report_lists_test_errors_apart() -> None:
    note = cell_problems(_graded("TestCellError", "keras.layers.Dense(...): cannot build"))[0]
    outcome = Outcome("alice", "convolution", "graded", (TestScore("test_conv", 0, 1),), 2.0,
                      notes=(note, "cell 3 ran past its time limit."))
    page = render_class_report([outcome], title="t", budget="smoke", workers=1, wall_seconds=3)
    assert ("Test errors, to fix in the assignment: cell 1 (test_conv): keras.layers.Dense(...): "
            "cannot build") in page
    assert "Notes: cell 3 ran past its time limit." in page
