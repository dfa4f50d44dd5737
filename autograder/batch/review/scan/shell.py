"""Calls to IPython's shell in a cell's code (``get_ipython().system(...)``, and the calls
IPython turns ``%magic`` and ``%%magic`` into): reported, and the code a magic runs read in turn."""

from __future__ import annotations

import ast

from autograder.batch.review.scan.magics import (
    MAX_MAGIC_DEPTH,
    allowed,
    expanded,
    magic_code,
)
from autograder.batch.review.scan.reader import Reader
from autograder.batch.review.scan.reasons import SHELL_USE
from autograder.batch.review.scan.syntax import text


class ShellCalls(Reader):
    """A reading that reports the uses of IPython's shell and reads the code magics run."""

    def shell_call(self, node: ast.Call, path: str) -> None:
        """Report a call of a method of ``get_ipython()`` (``path``); read a magic's code."""
        owner, _, method = path.rpartition(".")
        if owner == "get_ipython()" and method in ("run_line_magic", "run_cell_magic"):
            self.magic(node, path, cell=method == "run_cell_magic")
            return
        what = "a shell command (!)" if owner == "get_ipython()" and method in ("system", "getoutput") else path
        self.report(node, f"{SHELL_USE}: {what}")
        self.read_arguments(node)

    def magic(self, node: ast.Call, path: str, *, cell: bool) -> None:
        """Report a magic unless it is allowed, and read the code it runs and evaluates."""
        texts = [text(argument) for argument in node.args]
        name = texts[0] if texts else None
        label = ("%%" if cell else "%") + name if name else path
        if len(texts) != (3 if cell else 2) or None in texts or node.keywords:
            self.report(node, f"{SHELL_USE}: {label} with arguments built at run time")
            self.read_arguments(node)
            return
        self.skip.update(id(argument) for argument in node.args)
        line, body = texts[1], texts[2] if cell else None
        for expression in expanded(name, line):
            self.nested(expression, node.lineno - 1, futures=False, quiet=True)
        if not allowed(name, line):
            self.report(node, f"{SHELL_USE}: {label}")
            for written in (line, body or ""):
                self.data.string(node.lineno + self.offset, len(written), f"the text of {label}")
            return
        # A %%magic line is the cell's first; its body starts on the next line. A call written
        # out (get_ipython().run_cell_magic(...)) has its body on its own line.
        body_line = node.lineno if self.cell_magic and node.lineno == 1 else node.lineno - 1
        for code, start, futures in magic_code(name, line, body, node.lineno - 1, body_line):
            self.nested(code, start, futures=futures)

    def nested(self, code: str, line: int, *, futures: bool = True, quiet: bool = False) -> None:
        """Read code that a magic runs, its first line being line ``line + 1`` of the text
        being read (``quiet``: what does not parse is not kept as unreadable)."""
        if self.depth >= MAX_MAGIC_DEPTH:
            self.report(line + 1, f"nests magics more than {MAX_MAGIC_DEPTH} deep; the scan did not "
                                  f"read further")
            return
        self.depth += 1
        self.read(code, self.offset + line, futures=futures, quiet=quiet)
        self.depth -= 1

    def read_arguments(self, node: ast.Call) -> None:
        """Read a call's arguments (of a call to the shell, whose text is not a magic's)."""
        for part in (*node.args, *node.keywords):
            self.visit(part)
