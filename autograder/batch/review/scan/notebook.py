"""The scan of a submitted notebook (:func:`scan_submission`) or of one cell (:func:`scan_cell`):
the notebook as nbgrader runs it, and which of its cells are the student's, read in order."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import nbformat

from autograder.batch.review import cells
from autograder.batch.review.scan.data import notebook_reports
from autograder.batch.review.scan.reader import Names, Reader
from autograder.batch.review.scan.unparsed import Unparsed


@dataclass(frozen=True)
class Scan:
    """What :func:`scan_submission` found in a submitted notebook."""

    reports: tuple[str, ...]
    """One sentence per finding, each naming its cell (and line): the reasons to flag it."""
    unparsed: tuple[Unparsed, ...]
    """The student's cells the scan could not parse (for :func:`unreadable_cells_that_ran`)."""

    @property
    def flagged(self) -> bool:
        """Whether a person should review the submission (before it runs)."""
        return bool(self.reports)


def scan_submission(nb: Mapping, locked: Mapping[str, str]) -> Scan:
    """Read every code cell of a submitted notebook that the kernel will run as the student
    wrote it, in order, and report what could change a grade but its merit.

    The notebook is read as nbgrader reads it (:func:`as_run`). ``locked`` maps the assignment's
    locked cells' grade ids to their source: those cells are not read, nbgrader puts their source
    back from the gradebook (the tests run in the judge, the given code in the kernel); neither is
    a cell without nbgrader metadata whose whole text is a locked cell's released text. Any other
    code cell, hidden-test markers included, is the student's own."""
    nb, names = as_run(nb), Names(list(locked.values()))
    released = {cells.visible(t) for t in locked.values()}
    reports: list[str] = []
    unparsed: list[Unparsed] = []
    literals: dict[str, int] = {}
    for index, cell in enumerate(cells.of(nb)):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        grade_id, source = cells.grade_id(cell), cells.source(cell)
        where = cells.where(index, grade_id)
        if grade_id in locked or (not cells.has_nbgrader_metadata(cell)
                                  and cells.normalised(source) in released):
            continue
        reader = Reader(names, source)
        reports += [f"{where}, line {line}: {reason}" for line, reason in sorted(reader.found)]
        reports += [reason for _, reason in reader.data.reasons(where)]
        literals[where] = reader.data.bytes
        if reader.error is not None:
            unparsed.append(Unparsed(index, grade_id, source, reader.error))
    return Scan(tuple(reports + notebook_reports(nb, literals)), tuple(unparsed))


def scan_cell(source: str, locked: Iterable[str] = ()) -> list[tuple[int, str]]:
    """(line, reason) for each finding in one cell of the student's, read after the locked cells
    whose sources are ``locked``; a cell that does not parse has none."""
    reader = Reader(Names(list(locked)), source)
    return sorted(reader.found | set(reader.data.reasons("this cell")))


def as_run(nb: Mapping) -> Mapping:
    """``nb`` as nbgrader runs it: in an older format version (v3's worksheets), upgraded to
    version 4 by nbformat as nbgrader reads it; otherwise as it is."""
    if not isinstance(nb, Mapping) or nb.get("nbformat") == 4:
        return nb
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(json.dumps(nb), as_version=4, capture_validation_error={})
    except Exception:
        return nb
