"""The student's cells the scan could not parse (:class:`Unparsed`), and which of them the
kernel ran nonetheless, read from the executed notebook."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from autograder.batch.review import cells


@dataclass(frozen=True)
class Unparsed:
    """A code cell of the student's that the scan could not parse, so did not read."""

    cell: int
    """Its index (from 0) in the submitted notebook's cells."""
    grade_id: str | None
    """Its nbgrader grade id, if it has one."""
    source: str
    """Its source, as submitted (to find it again in the executed notebook)."""
    error: SyntaxError
    """Why it did not parse (the line is the cell's)."""

    @property
    def where(self) -> str:
        """``cell N`` or ``cell N (grade id)``, as the scan's other reports name a cell."""
        return cells.where(self.cell, self.grade_id)


def unreadable_cells_that_ran(executed: Mapping, unparsed: Iterable[Unparsed]) -> list[str]:
    """Flags for the cells the scan could not parse but the kernel ran, read from the executed
    notebook. A cell is found again by its source; it ran if it has an execution count or an
    output other than "not run", unless it failed to parse there too (a ``SyntaxError`` raised
    while the cell, or a magic's body in it, was compiled). A cell not found (nbgrader put a
    locked cell's source back) did not run as written."""
    found = [c for c in cells.of(executed) if isinstance(c, Mapping) and c.get("cell_type") == "code"]
    return [f"{item.where} could not be read by the review scan but ran; a person should read it (the "
            f"scan's parser said: {item.error.msg}, line {item.error.lineno})." for item in unparsed
            if any(cells.normalised(cells.source(c)) == cells.normalised(item.source) and _ran(c)
                   and not _failed_to_parse(c) for c in found)]


def _ran(cell: Mapping) -> bool:
    # Imported here: the judge's executor pulls in nbgrader, which the scan itself does not need.
    from autograder.judge.guarded_execute import NOT_RUN
    return cell.get("execution_count") is not None or any(
        not (o.get("output_type") == "error" and o.get("ename") == NOT_RUN)
        for o in cell.get("outputs") or [] if isinstance(o, Mapping))


def _failed_to_parse(cell: Mapping) -> bool:
    """Whether the kernel could not compile the cell (or a magic's body in it): compiling the
    cell leaves no frames in the traceback; a magic's body fails inside the magic."""
    return any(isinstance(o, Mapping) and o.get("output_type") == "error"
               and o.get("ename") in ("SyntaxError", "IndentationError", "TabError")
               and ("most recent call last" not in (text := "\n".join(map(str, o.get("traceback") or [])))
                    or "_magic(" in text) for o in cell.get("outputs") or [])
