"""The scan of a submitted notebook (:func:`scan_submission`) or of one cell (:func:`scan_cell`):
the notebook as nbgrader will run it, which of its cells are the student's own, read in order
with names and ``__future__`` features carried from cell to cell."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import nbformat

from autograder.batch.review import cells
from autograder.batch.review.cells import visible
from autograder.batch.review.scan.data import notebook_reports
from autograder.batch.review.scan.reader import Names, Reader
from autograder.batch.review.scan.unparsed import Unparsed


@dataclass(frozen=True)
class Scan:
    """What :func:`scan_submission` found in a submitted notebook."""

    reports: tuple[str, ...]
    """One sentence per finding, each naming its cell (and line): the reasons to flag it."""
    unparsed: tuple[Unparsed, ...]
    """The student's cells the scan could not parse; pass them to
    :func:`unreadable_cells_that_ran` with the executed notebook."""

    @property
    def flagged(self) -> bool:
        """Whether a person should review the submission (before it runs)."""
        return bool(self.reports)


def scan_submission(nb: Mapping, locked: Mapping[str, str]) -> Scan:
    """Read every code cell of a submitted notebook that the kernel will run as the student
    wrote it, in order, and report what could change a grade but its merit.

    The notebook is read as nbgrader reads it: in an older format version, upgraded to version 4
    first (:func:`as_run`). ``locked`` maps the assignment's locked cells' grade ids to their
    source (hidden tests included): cells with those ids are not read, since nbgrader puts their
    source back from the gradebook (the tests among them run in the judge, the given code in the
    kernel); neither is a cell without nbgrader metadata whose whole source is the released text
    of a locked cell (nbgrader restores it too). Any other text, hidden-test markers included, is
    the student's own. Large data (literals, outputs, attachments) is reported as a place trained
    weights could hide.
    """
    nb = as_run(nb)
    names = Names.of(list(locked.values()))
    reports: list[str] = []
    unparsed: list[Unparsed] = []
    literals: dict[str, int] = {}  # where -> bytes of literals and comments
    for index, grade_id, source in _student_cells(nb, locked):
        where = cells.where(index, grade_id)
        reader = Reader(names, source)
        reports += [f"{where}, line {line}: {reason}" for line, reason in sorted(reader.found)]
        reports += [reason for _, reason in reader.data.reasons(where)]
        literals[where] = reader.data.total()
        if reader.error is not None:
            unparsed.append(Unparsed(index, grade_id, source, reader.error))
    return Scan(tuple(reports + notebook_reports(nb, literals)), tuple(unparsed))


def scan_cell(source: str, locked: Iterable[str] = ()) -> list[tuple[int, str]]:
    """(line, reason) for each finding in one cell of the student's, read on its own after the
    locked cells ``locked`` (their sources); a cell that does not parse has none."""
    reader = Reader(Names.of(list(locked)), source)
    return sorted(reader.found | set(reader.data.reasons("this cell")))


def as_run(nb: Mapping) -> Mapping:
    """``nb`` as nbgrader runs it: a notebook of an older format version (v3's worksheets)
    upgraded to version 4 by nbformat, as nbgrader reads it; any other as it is."""
    if not isinstance(nb, Mapping) or nb.get("nbformat") == 4:
        return nb
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(json.dumps(nb), as_version=4, capture_validation_error={})
    except Exception:  # noqa: BLE001 - nbformat raises many kinds; nbgrader would not run it
        return nb


def _student_cells(nb: Mapping, locked: Mapping[str, str]) -> Iterator[tuple[int, str | None, str]]:
    """(index, grade id, source) of each code cell the kernel will run as the student wrote it:
    not a locked cell, nor a cell without nbgrader metadata that is a locked cell's released text."""
    released = {visible(text) for text in locked.values()}
    for index, cell in enumerate(cells.of(nb)):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        grade_id, source = cells.grade_id(cell), cells.source(cell)
        if grade_id in locked or (not cells.has_nbgrader_metadata(cell) and cells.normalised(source) in released):
            continue
        yield index, grade_id, source
