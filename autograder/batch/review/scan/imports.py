"""Imports in a cell's code: modules whose import alone is reported, imports of the kit's own
package or of reported functions, names the tests use rebound by an import, and the aliases an
import makes."""

from __future__ import annotations

import ast

from autograder.batch.review.scan.names import same
from autograder.batch.review.scan.reader import Reader
from autograder.batch.review.scan.reasons import (
    REPORTED_MODULES,
    REPORTED_OS,
    REPORTED_PATHS,
    reported_path,
    which,
)
from autograder.batch.review.scan.syntax import imports


class Imports(Reader):
    """A reading that reports imports and records the names they bind."""

    def visit_Import(self, node: ast.Import) -> None:
        for alias, (bound, path) in zip(node.names, imports(node)):
            self.imported(node, path, bound)
            self.names.modules.add(bound)
            self.kit_imported(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "__future__":
            return
        for bound, path in imports(node):
            if bound == "*":
                self.star(node, module)
            else:
                self.imported(node, path, bound)
        self.kit_imported(node, module)

    def imported(self, node: ast.AST, name: str, bound: str) -> None:
        """Report an import of ``name`` as ``bound``, and record what ``bound`` now is."""
        self.module_imported(node, name)
        protected = self.names.protected
        if bound in protected and same(protected[bound] or "") != same(name):
            self.report(node, f"rebinds {bound!r}, a name the tests use, to {name}")
        path = self.names.canon(name)
        self.names.imported.add(bound)
        self.names.alias(bound, path)
        if path == bound:  # the tests' own name for it: no alias needed
            del self.names.aliases[bound]
        reason = reported_path(path)
        if reason is not None:
            self.report(node, f"imports {path}{which(reason)}")

    def star(self, node: ast.ImportFrom, module: str) -> None:
        """Report ``from module import *`` if it brings a reported function, which it aliases."""
        self.module_imported(node, module)
        module = same(module)
        brought = [p for p in REPORTED_PATHS if p.rpartition(".")[0] == module]
        brought += [f"os.{n}" for n in sorted(REPORTED_OS) if module == "os"]
        for path in brought:
            self.names.alias(path.rpartition(".")[2], path)
        if brought:
            self.report(node, f"imports everything from {module}, {brought[0]} among it")

    def module_imported(self, node: ast.AST, name: str) -> None:
        """Report an import from a module whose import alone is reported."""
        top = name.split(".")[0]
        if top in REPORTED_MODULES:
            self.report(node, f"imports {top}, which {REPORTED_MODULES[top]}")

    def kit_imported(self, node: ast.AST, name: str) -> None:
        """Report an import from the kit's own package (``name`` is the module imported)."""
        if name.split(".")[0] == "autograder":
            self.report(node, f"imports from the kit's package ({name}) in its own code")
