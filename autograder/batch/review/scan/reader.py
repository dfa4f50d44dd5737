"""Reading one cell's text as the kernel runs it: the state a reading keeps, how a finding is
recorded with the cell's line, and what is kept when a part of the cell does not parse."""

from __future__ import annotations

import ast

from autograder.batch.review import cells
from autograder.batch.review.scan.data import Data
from autograder.batch.review.scan.names import Names
from autograder.batch.review.scan.parsing import (
    blank_lead,
    future_flags,
    parse,
    syntax_error,
    transformed,
)
from autograder.batch.review.scan.reasons import MARKERS


class Reader(ast.NodeVisitor):
    """Reads one cell, and the code its magics run, sharing :class:`Names` with the cells
    before it; what to report while visiting its tree is left to the subclasses."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.found: list[tuple[int, str]] = []
        self.error: SyntaxError | None = None
        self.data = Data()
        self.offset = 0  # lines of the cell before the text being read
        self.depth = 0  # magics nested around the text being read
        self.scopes: list[tuple[str, set[str]]] = []  # ("function" or "class", names declared global)
        self.skip: set[int] = set()  # nodes already reported as calls, and magics' text
        self.cell_magic = False  # whether the text being read is a %%magic cell
        self.decorators: set[int] = set()  # calls written as decorators

    def findings(self) -> list[tuple[int, str]]:
        """(line of the cell, reason) for each finding, once each, in order."""
        return sorted(set(self.found))

    def report(self, node: ast.AST | int, reason: str) -> None:
        """Record a finding at ``node`` (or a line) of the text being read."""
        line = node if isinstance(node, int) else getattr(node, "lineno", 1)
        self.found.append((line + self.offset, reason))

    def read_cell(self, source: str) -> None:
        """Read a whole cell of the student's."""
        self.data.source = cells.data_size(source)
        for line in cells.hidden_test_lines(source):
            self.found.append((line, MARKERS))
        self.read(source, 0)

    def read(self, source: str, offset: int, *, futures: bool = True, quiet: bool = False) -> None:
        """Read ``source`` as IPython would run it, its line 1 being line ``offset + 1``
        (``futures``: with the ``__future__`` features turned on so far, turning on its own;
        ``quiet``: what does not parse is not kept as unreadable)."""
        lead = blank_lead(source)
        try:
            python = transformed(source)
            tree = parse(python, self.names.future if futures else 0)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if not quiet:
                self.unreadable(error, offset + lead)
            return
        if futures:
            self.names.future |= future_flags(tree)
        self.data.comments_of(python)
        saved = self.offset, self.cell_magic, len(self.scopes)
        self.offset, self.cell_magic = offset + lead, source.lstrip().startswith("%%")
        try:
            self.visit(tree)
        except RecursionError as error:  # nested deeper than the visitor can follow
            self.unreadable(error, offset + lead)
        finally:
            self.offset, self.cell_magic = saved[:2]
            del self.scopes[saved[2]:]

    def unreadable(self, error: Exception, offset: int) -> None:
        """Keep the first reason the scan could not read part of the cell."""
        if self.error is None:
            self.error = syntax_error(error, offset)
            self.data.unread = True
