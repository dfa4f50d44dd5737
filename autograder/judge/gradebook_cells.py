"""The assignment's cells as the gradebook defines them, and the notebook's metadata set from it.

A submitted notebook's nbgrader metadata is the student's to edit: a test cell marked as an
answer, a test of their own worth 100 points, a locked cell unlocked, stripped of its metadata or
deleted. The gradebook's definition is not. :class:`GradebookCells` reads it; :class:`SettleMetadata`
puts the notebook right from it, the one place that does, as the first of nbgrader's sanitizing
preprocessors (the course's ``nbgrader_config.py``, so plain ``nbgrader autograde`` and ``cnnkit
grade`` alike), before ``OverwriteCells`` (which would fail on an unknown grade id or on a test
cell flagged as an answer), so that the run goes on and the grade follows the answers alone:

* :meth:`GradebookCells.put_back` puts back the locked cells a student deleted or stripped of their
  metadata, at their place in the assignment's order (nbgrader's own ``add_missing_cells`` fails on
  a deleted cell whose predecessor is gone too, and never re-adds a locked cell that is not graded);
* :meth:`GradebookCells.settle` rewrites every cell's nbgrader metadata from the gradebook by grade id,
  and removes it from cells the gradebook does not know (they become the student's own code).
"""

from __future__ import annotations

from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4.nbbase import random_cell_id
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.batch.review.cells import grade_id as cell_grade_id
from autograder.batch.review.cells import source as cell_source
from autograder.batch.review.cells import visible


class GradebookCells:
    """The assignment's cells as the gradebook defines them, for one notebook."""

    def __init__(self, resources: Any) -> None:
        info = resources["nbgrader"]
        self.tests: dict[str, str] = {}
        self.metadata: dict[str, dict] = {}
        self.cell_types: dict[str, str] = {}
        #: Grade ids of the assignment's cells, in the gradebook's order (the notebook's).
        self.order: list[str] = []
        #: Sources of the locked cells, by grade id.
        self.locked: dict[str, str] = {}
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
                self.order.append(cell.name)
                if cell.locked:
                    self.locked[cell.name] = cell.source
                if cell.name in graded and cell.name not in answers and cell.cell_type == "code":
                    self.tests[cell.name] = cell.source

    def put_back(self, nb: NotebookNode) -> list[str]:
        """Put back the locked cells missing from ``nb`` (in place), at their place in the
        assignment's order; return their grade ids. A cell without nbgrader metadata whose text
        is the locked cell's released text gets its metadata back; otherwise the gradebook's cell
        is inserted after the last cell of the assignment that comes before it."""
        found = nb.cells
        present = {cell_grade_id(c) for c in found}
        restored = []
        for name in self.order:
            if name not in self.locked or name in present:
                continue
            original = visible(self.locked[name])
            twin = next((c for c in found if cell_grade_id(c) is None and original
                         and visible(cell_source(c)) == original), None)
            if twin is not None:
                twin.setdefault("metadata", NotebookNode())["nbgrader"] = NotebookNode(self.metadata[name])
            else:
                before = set(self.order[:self.order.index(name)])
                position = 0
                for index, cell in enumerate(found):
                    if cell_grade_id(cell) in before:
                        position = index + 1
                found.insert(position, self._new_cell(nb, name))
            present.add(name)
            restored.append(name)
        return restored

    def _new_cell(self, nb: NotebookNode, name: str) -> NotebookNode:
        """The gradebook's locked cell ``name`` as a notebook cell (with an id where the
        notebook's format has them, as nbformat gives a cell read without one)."""
        cell = NotebookNode(cell_type=self.cell_types[name], source=self.locked[name],
                            metadata=NotebookNode(nbgrader=NotebookNode(self.metadata[name])))
        if cell.cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
            cell.id = random_cell_id()
        return cell

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
        book = GradebookCells(resources)
        for grade_id in book.put_back(nb):
            self.log.info("Cell with grade id %r was deleted or stripped of its metadata; it was "
                          "put back from the gradebook.", grade_id)
        for grade_id in book.settle(nb):
            self.log.warning("Cell with grade id %r is not part of the assignment; it runs as the "
                             "student's own code.", grade_id)
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        index: int) -> tuple[NotebookNode, ResourcesDict]:
        return cell, resources
