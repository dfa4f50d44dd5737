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
    notebook (after the run): ``"cell N could not be read by the review scan but ran; a person
    should read it"``.

    A cell is found again by its source. It ran if it has an execution count or an output other
    than "not run"; it failed to parse there too if it has a ``SyntaxError``,
    ``IndentationError`` or ``TabError`` output raised while the cell was compiled (or while a
    magic compiled its body), not one its code raised at run time. A cell not found (nbgrader
    put a locked cell's source back) did not run as written and is not flagged.
    """
    executed_cells = [c for c in executed.get("cells", []) if isinstance(c, Mapping)
                      and c.get("cell_type") == "code"] if isinstance(executed, Mapping) else []
    flags = []
    for item in unparsed:
        text = cells.normalised(item.source)
        if any(cells.normalised(cells.source(c)) == text and _ran(c) and not _failed_to_parse(c)
               for c in executed_cells):
            flags.append(f"{item.where} could not be read by the review scan but ran; a person "
                         f"should read it (the scan's parser said: {item.error.msg}, line "
                         f"{item.error.lineno}).")
    return flags


def _ran(cell: Mapping) -> bool:
    """Whether the kernel ran the cell (its outcome aside)."""
    if cell.get("execution_count") is not None:
        return True
    # Imported here: the judge's executor pulls in nbgrader, which the scan itself does not need.
    from autograder.judge.guarded_execute import NOT_RUN
    return any(not (o.get("output_type") == "error" and o.get("ename") == NOT_RUN)
               for o in cell.get("outputs") or [] if isinstance(o, Mapping))


def _failed_to_parse(cell: Mapping) -> bool:
    """Whether the kernel could not compile the cell (or a magic's body in it)."""
    for output in cell.get("outputs") or []:
        if not isinstance(output, Mapping) or output.get("output_type") != "error":
            continue
        if output.get("ename") not in ("SyntaxError", "IndentationError", "TabError"):
            continue
        traceback = "\n".join(str(line) for line in output.get("traceback") or [])
        # Compiling the cell itself leaves no frames; a magic's body fails inside the magic.
        if "most recent call last" not in traceback or "_magic(" in traceback:
            return True
    return False
