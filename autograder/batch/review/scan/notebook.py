"""The scan of a submitted notebook (:func:`scan_submission`) or of one cell (:func:`scan_cell`):
which cells are the student's own, read in order with names and ``__future__`` features carried
from cell to cell, and what is reported of each and of the notebook as a whole."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from autograder.batch.review import cells
from autograder.batch.review.cells import visible
from autograder.batch.review.scan.data import notebook_reports
from autograder.batch.review.scan.names import Names, protected_names
from autograder.batch.review.scan.unparsed import Unparsed
from autograder.batch.review.scan.visitor import Finder


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

    ``locked`` maps the assignment's locked cells' grade ids to their source (hidden tests
    included). Cells with those ids are not read: nbgrader puts their source back from the
    gradebook. Neither is a cell without nbgrader metadata whose whole source is the released
    text of a locked cell (nbgrader restores it too); any other text in such a cell, hidden-test
    markers included, is read as the student's own. Aliases and ``__future__`` features carry
    from cell to cell. Large data in the notebook (literals, outputs, attachments) is reported
    as a place trained weights could hide.
    """
    names = Names.start(protected_names(locked.values()))
    reports: list[str] = []
    unparsed: list[Unparsed] = []
    literals: dict[str, int] = {}  # where -> bytes of literals and comments
    for index, grade_id, source in _student_cells(nb, locked):
        where = cells.where(index, grade_id)
        finder = Finder.of_cell(source, names)
        reports += [f"{where}, line {line}: {reason}" for line, reason in finder.findings()]
        reports += [reason for _, reason in finder.data.reasons(where)]
        literals[where] = finder.data.total()
        if finder.error is not None:
            unparsed.append(Unparsed(index, grade_id, source, finder.error))
    reports += notebook_reports(nb, literals)
    return Scan(tuple(reports), tuple(unparsed))


def scan_notebook(nb: Mapping, locked: Mapping[str, str]) -> list[str]:
    """Reports for a submitted notebook: one line per finding in the student's own cells
    (:func:`scan_submission` without the cells it could not parse)."""
    return list(scan_submission(nb, locked).reports)


def scan_cell(source: str, protected: Mapping[str, str | None] | None = None) -> list[tuple[int, str]]:
    """(line, reason) for each construct in one cell, read on its own, that could change a
    grade by other means than its merit; a cell that does not parse is not reported (it fails
    on its own: :func:`scan_submission` returns it apart)."""
    finder = Finder.of_cell(source, Names.start(dict(protected or {})))
    return sorted(set(finder.findings()) | set(finder.data.reasons("this cell")))


def _student_cells(nb: Mapping, locked: Mapping[str, str]) -> Iterator[tuple[int, str | None, str]]:
    """(index, grade id, source) of each code cell the kernel will run as the student wrote it:
    not a locked cell, nor a cell without nbgrader metadata that is a locked cell's released text."""
    released = {visible(text) for text in locked.values()}
    for index, cell in enumerate(cells.of(nb)):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        grade_id = cells.grade_id(cell)
        source = cells.source(cell)
        if grade_id in locked or (not cells.has_nbgrader_metadata(cell)
                                  and cells.normalised(source) in released):
            continue
        yield index, grade_id, source
