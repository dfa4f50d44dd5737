"""Following aliases in a cell's code: what a reference names once the student's aliases are
followed (``k.close`` -> ``checks.close``), and what a binding makes of its names."""

from __future__ import annotations

import ast

from autograder.batch.review.scan.names import BUILTINS
from autograder.batch.review.scan.reader import Reader
from autograder.batch.review.scan.reasons import REPORTED_CALLS, SHELL_GETTERS
from autograder.batch.review.scan.syntax import bound_names, carriers, chain_root, text


class Aliases(Reader):
    """A reading that resolves references and records bindings in :class:`Names`."""

    def resolve(self, node: ast.AST) -> str:
        """What a reference names, aliases followed (``k.close`` -> ``checks.close``); "" if it
        is not a plain reference."""
        if isinstance(node, ast.Name):
            return self.names.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return self.member(node.value, node.attr)
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if func in SHELL_GETTERS and not node.args:
                return "get_ipython()"
            if func == "getattr" and len(node.args) == 2 and text(node.args[1]) is not None:
                return self.member(node.args[0], text(node.args[1]))
        return ""

    def member(self, owner: ast.AST, attribute: str) -> str:
        """What ``owner.attribute`` names, as :meth:`resolve` gives it."""
        base = self.resolve(owner)
        return self.names.canon(f"{base}.{attribute}") if base else ""

    def library_path(self, node: ast.AST) -> str | None:
        """What ``node`` names if it is a library object (its alias value), else None."""
        path = self.resolve(node)
        if not path:
            return None
        if path.startswith("get_ipython()") or path in SHELL_GETTERS or path in REPORTED_CALLS:
            return path
        root = chain_root(node)
        return path if root is not None and self.names.is_library(root) else None

    def held_path(self, node: ast.AST) -> str | None:
        """A library object that ``node`` holds (in a list, a tuple, a conditional), if any."""
        for sub in carriers(node):
            if isinstance(sub, ast.Name) and sub.id in self.names.holders:
                return self.names.holders[sub.id]
            path = self.library_path(sub) if isinstance(sub, (ast.Name, ast.Attribute, ast.Call)) else None
            if path and path not in BUILTINS:
                return path
        return None

    def reaching(self, node: ast.AST) -> str | None:
        """How an expression that is not a plain reference reaches a library object."""
        for sub in carriers(node):
            if isinstance(sub, ast.Name) and sub.id in self.names.holders:
                return f"{sub.id}, which holds {self.names.holders[sub.id]}"
            if isinstance(sub, ast.Name) and self.names.is_library(sub.id):
                return self.resolve(sub)
        return None

    def module_level(self, name: str) -> bool:
        """Whether binding ``name`` here binds the notebook's global name."""
        return not self.scopes or (self.scopes[-1][0] == "function" and name in self.scopes[-1][1])

    def bind(self, target: ast.AST, value: ast.AST | None, *, hold: bool = False,
             local: bool = False) -> None:
        """Record what ``target`` stands for after it is bound to ``value`` (``hold``: to one
        of the things ``value`` holds, as a loop's variable; ``local``: in a comprehension)."""
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts) and not hold \
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts)):
            for element, part in zip(target.elts, value.elts):
                self.bind(element, part, local=local)
            return
        alias = None if value is None or hold else self.library_path(value)
        held = None if value is None or alias else self.held_path(value)
        for node in bound_names(target):
            if alias is not None and isinstance(target, ast.Name):
                self.names.alias(node.id, alias)
            elif alias or held:
                self.names.hold(node.id, alias or held)
            elif not local and self.module_level(node.id):
                # A library's name bound to a value of the student's is no longer the library
                # (only at the top level: a function's local name hides nothing outside it).
                self.names.forget(node.id)
