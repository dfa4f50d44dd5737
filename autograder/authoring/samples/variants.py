"""A sample submission described as edits of the reference solution.

A :class:`Variant` says which answer cells change and how, which tests must then lose their points
(none for a correct answer written differently), and what the feedback must say about it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from nbformat.notebooknode import NotebookNode


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` by ``new`` in the answer cell ``cell`` (its nbgrader grade id)."""

    cell: str
    """The grade id of the answer cell to edit."""
    old: str
    """Text of the reference answer to replace; it must occur in the cell."""
    new: str
    """What replaces it."""
    count: int = -1
    """How many occurrences to replace (all by default)."""


class VariantError(ValueError):
    """A variant does not fit the notebook it is applied to (the catalogue is out of date)."""


@dataclass(frozen=True)
class Variant:
    """A submission of one assignment, made from its reference solution by :attr:`edits`."""

    assignment: str
    """The assignment id."""
    slug: str
    """A short name, unique within the assignment, used in student ids."""
    description: str
    """What the student did, in one line."""
    edits: tuple[Edit, ...]
    """The edits that turn the reference solution into this submission."""
    loses: tuple[str, ...] = ()
    """Grade ids of the tests that must score 0; empty for a correct answer."""
    says: str = ""
    """Words that the feedback of the first test in :attr:`loses` must contain."""
    drop_cells: tuple[str, ...] = ()
    """Grade ids of cells the student deleted."""
    strip_metadata: tuple[str, ...] = ()
    """Grade ids of cells whose nbgrader metadata the student's editor stripped."""

    @property
    def correct(self) -> bool:
        """Whether this is a correct answer, which must get full marks."""
        return not self.loses

    def apply(self, notebook: NotebookNode) -> NotebookNode:
        """A copy of ``notebook`` with the edits made."""
        result = copy.deepcopy(notebook)
        cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in result.cells}
        for edit in self.edits:
            cell = cells.get(edit.cell)
            if cell is None:
                raise VariantError(f"{self.assignment}/{self.slug}: expected a cell with grade id "
                                   f"{edit.cell!r}, found none.")
            if edit.old not in cell.source:
                raise VariantError(f"{self.assignment}/{self.slug}: expected {edit.old!r} in cell "
                                   f"{edit.cell!r}, found it missing. Update the variant.")
            cell.source = cell.source.replace(edit.old, edit.new, edit.count)
        for grade_id in self.strip_metadata:
            cells[grade_id].metadata.pop("nbgrader", None)
        result.cells = [c for c in result.cells
                        if c.metadata.get("nbgrader", {}).get("grade_id") not in self.drop_cells]
        return result
