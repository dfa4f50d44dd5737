"""The reading of one cell as a whole (:class:`Finder`): imports, bindings and the shell's
calls from their modules, and here the calls, references and literals of the code."""

from __future__ import annotations

import ast

from autograder.batch.review.scan.bindings import Bindings
from autograder.batch.review.scan.imports import Imports
from autograder.batch.review.scan.names import Names
from autograder.batch.review.scan.reasons import (
    INTERNAL_ATTRIBUTES,
    REPLACED_INTERNALS,
    REPORTED_CALLS,
    REPORTED_REFERENCES,
    SHELL_GETTERS,
    SHELL_USE,
    reported_call,
    reported_path,
    which,
)
from autograder.batch.review.scan.shell import ShellCalls
from autograder.batch.review.scan.syntax import arguments, dotted, text


class Finder(Imports, Bindings, ShellCalls):
    """Reads one cell (and the code its magics run) for findings, sharing :class:`Names`."""

    @classmethod
    def of_cell(cls, source: str, names: Names) -> Finder:
        """A whole cell of the student's, read: its findings, data and first parse error."""
        finder = cls(names)
        finder.read_cell(source)
        return finder

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        path = self.resolve(func)
        if isinstance(func, ast.Attribute) and self.resolve(func.value).startswith("get_ipython()"):
            self.shell_call(node, path or dotted(func))
            return
        reason = reported_call(path)
        if path in SHELL_GETTERS:
            self.report(node, f"{SHELL_USE}: get_ipython()")
            self.skip.add(id(func))
        elif path == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.report(node, "reads an attribute by a computed name")
        elif path in ("open", "io.open") and node.args and _outside(node.args[0]):
            self.report(node, "opens a file outside its own folder")
        elif reason is not None:
            self.report(node, f"calls {path}(){which(reason)}")
            self.skip.add(id(func))
        self.unsafe_loading(node, path)
        self.handed(node, func)
        self.generic_visit(node)

    def unsafe_loading(self, node: ast.Call, path: str) -> None:
        """Report a call that loads data able to run code (pickles, a Keras model's own code)."""
        for keyword in node.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            if keyword.arg == "allow_pickle" and value is not False:
                self.report(node, "loads with allow_pickle, which can run code hidden in the data")
            elif keyword.arg == "safe_mode" and value is not True:
                self.report(node, "turns off Keras's safe_mode, which lets a saved model run its own code")
        if path.rpartition(".")[2] == "read_pickle" or (
                isinstance(node.func, ast.Attribute) and node.func.attr == "read_pickle"):
            self.report(node, "calls read_pickle(), which can run code hidden in the data")

    def handed(self, node: ast.Call, func: ast.AST) -> None:
        """Report a module handed to the student's own function or to a decorator."""
        decorator = id(node) in self.decorators
        own = isinstance(func, ast.Name) and func.id in self.names.own
        if not (decorator or own):
            return
        for argument in arguments(node):
            if isinstance(argument, ast.Name) and self.names.is_module_like(argument.id):
                what = self.resolve(argument)
                to = f"the decorator @{dotted(func)}()" if decorator else f"its own function {func.id}()"
                self.report(node, f"hands {what} to {to}, which could replace its parts")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.report(node, "reaches __builtins__")
        elif isinstance(node.ctx, ast.Load) and id(node) not in self.skip:
            self.referenced(node, self.resolve(node))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) not in self.skip:
            path = self.resolve(node)
            if path:
                self.referenced(node, path)
            store = isinstance(node.ctx, (ast.Store, ast.Del))
            if node.attr in INTERNAL_ATTRIBUTES and not (store and node.attr in REPLACED_INTERNALS):
                self.report(node, f"reaches {node.attr}, an interpreter internal")
        self.generic_visit(node)

    def referenced(self, node: ast.AST, path: str) -> None:
        """Report a reference, called or not, to what reaching is reported."""
        reason = reported_path(path)
        if path in SHELL_GETTERS:
            self.report(node, f"{SHELL_USE}: {path}")
        elif path in REPORTED_REFERENCES:
            self.report(node, f"refers to {path} without calling it; {path}() {REPORTED_CALLS[path]}")
        elif reason:
            self.report(node, f"reaches {path}, which {reason}")
        elif reason is not None:  # a function of os
            self.report(node, f"refers to {path} without calling it")

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) not in self.skip:
            width = (node.end_col_offset or 0) - node.col_offset if node.end_lineno == node.lineno else 8
            self.data.constant(node.lineno + self.offset, node.value, width)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if key is not None:
                self.dunder(key, text(key))
        self.generic_visit(node)


def _outside(argument: ast.AST) -> bool:
    """Whether ``open(argument)`` may open a file outside the notebook's folder."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value.startswith(("/", "~")) or ".." in argument.value
    return not isinstance(argument, ast.Constant)
