"""The assignment's cells as the gradebook defines them, and the notebook's metadata set from it.

A submitted notebook's nbgrader metadata is the student's to edit: a test cell marked as an
answer, a test of their own worth 100 points, a locked cell unlocked. The gradebook's definition
is not. :class:`TestBook` reads it; :meth:`TestBook.settle` rewrites every cell's nbgrader metadata
from it by grade id, and removes it from cells the gradebook does not know (they become the
student's own code). :class:`SettleMetadata` does that as the first of nbgrader's sanitizing
preprocessors, before ``OverwriteCells`` (which would fail on an unknown grade id or on a test
cell flagged as an answer), so that the run goes on and the grade follows the answers alone.
"""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor


class TestBook:
    """The assignment's cells as the gradebook defines them, for one notebook."""

    def __init__(self, resources: Any) -> None:
        info = resources["nbgrader"]
        self.tests: dict[str, str] = {}
        self.metadata: dict[str, dict] = {}
        self.cell_types: dict[str, str] = {}
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            graded = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
            answers = {cell.name for cell in notebook.solution_cells}
            tasks = {cell.name for cell in notebook.task_cells}
            for cell in notebook.source_cells:
                entry = {"grade": cell.name in graded, "grade_id": cell.name, "locked": bool(cell.locked),
                         "solution": cell.name in answers, "task": cell.name in tasks,
                         "schema_version": 3}
                if cell.name in graded:
                    entry["points"] = graded[cell.name]
                self.metadata[cell.name] = entry
                self.cell_types[cell.name] = cell.cell_type
                if cell.name in graded and cell.name not in answers and cell.cell_type == "code":
                    self.tests[cell.name] = cell.source

    def settle(self, nb: NotebookNode) -> list[str]:
        """Set every cell's nbgrader metadata from the gradebook (in place); the grade ids of
        cells the gradebook does not know, whose metadata is removed."""
        unknown = []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id in self.metadata:
                kept = {k: v for k, v in meta.items() if k in ("checksum", "cell_type")}
                cell.metadata["nbgrader"] = NotebookNode({**kept, **self.metadata[grade_id]})
                _restore_type(cell, self.cell_types.get(grade_id, cell.cell_type))
            else:
                unknown.append(str(grade_id))
                del cell.metadata["nbgrader"]
        return unknown


def _restore_type(cell: NotebookNode, cell_type: str) -> None:
    """Give ``cell`` back the type the gradebook has for it (a test cell turned into Markdown or
    raw text is a test cell again, with no outputs yet), in place."""
    if cell.cell_type == cell_type or cell_type not in ("code", "markdown", "raw"):
        return
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


class SettleMetadata(NbGraderPreprocessor):
    """Set every cell's nbgrader metadata from the gradebook (see the module docstring)."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        for grade_id in TestBook(resources).settle(nb):
            self.log.warning("Cell with grade id %r is not part of the assignment; it runs as the "
                             "student's own code.", grade_id)
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        index: int) -> tuple[NotebookNode, ResourcesDict]:
        return cell, resources
