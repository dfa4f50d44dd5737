"""What went wrong in a run, read from the executed notebook: one sentence per cell (a timeout,
a dead kernel, output cut at the limit, memory, the disk limit)."""

from __future__ import annotations

import nbformat

from autograder.batch.review import cells
from autograder.judge import guarded_execute as GE

#: Error names that mean the run went wrong in a cell, and how the grade explains them.
CELL_PROBLEMS = {
    "CellTimeoutError": "ran longer than the per-cell limit and was stopped",
    GE.DEAD_KERNEL: "killed the kernel (it exited, was killed, or ran out of memory)",
    GE.NOT_RUN: "and the cells after it did not run (the kernel had died or could not be stopped)",
    GE.OUTPUT_CUT: "printed past the output limit; the rest was dropped",
    "MemoryError": "ran out of memory",
}


#: The error name of a test that cannot be judged outside the kernel (``autograder.judge.verdict``).
TEST_ERROR = "TestCellError"

#: How a note about such a test begins; the class report lists these apart from the students'.
TEST_ERROR_NOTE = "test error (the test's, not the student's) in"


def cell_problems(nb: nbformat.NotebookNode) -> list[str]:
    """One sentence per cell where the run went wrong (timeout, dead kernel, output cut, memory)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cells.grade_id(cell)
        where = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "OSError" and any(
                    text in output.get("evalue", "") for text in ("File too large", "No space left")):
                problems.append(f"{where} wrote past the disk limit; the write failed.")
            if output.get("output_type") == "error" and output.get("ename") == TEST_ERROR:
                problems.append(f"{TEST_ERROR_NOTE} {where}: {output.get('evalue', '')[:300]}")
            if output.get("output_type") == "error" and output.get("ename") in CELL_PROBLEMS:
                if output["ename"] == GE.NOT_RUN and any(GE.NOT_RUN in p for p in problems):
                    continue
                problems.append(f"{where} {CELL_PROBLEMS[output['ename']]}.")
    return problems
