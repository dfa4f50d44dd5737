"""Definitions and assignments in a cell's code: names the tests use rebound or deleted, parts
of libraries and interpreter internals replaced, methods that let an object lie, and the
aliases each binding makes or undoes."""

from __future__ import annotations

import ast

from autograder.batch.review.scan.aliases import Aliases
from autograder.batch.review.scan.reasons import (
    REPLACED_INTERNALS,
    REPORTED_DUNDERS,
    UNPICKLING_DUNDERS,
)
from autograder.batch.review.scan.syntax import arguments, chain_root, dotted

#: (module, attribute): a library's settings, which honest notebooks change.
_SETTINGS = frozenset({("pandas", "options")})


class Bindings(Aliases):
    """A reading that reports what definitions and assignments replace, and keeps scopes."""

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.defines(node, node.name)
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self.scopes.append(("function", set()))
        self.bind_defaults(node.args)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.defines(node, node.name)
        for part in (*node.bases, *node.keywords):
            self.visit(part)
        self.scopes.append(("class", set()))
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    def visit_Global(self, node: ast.Global) -> None:
        if self.scopes:
            self.scopes[-1][1].update(node.names)

    def defines(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, name: str) -> None:
        """A ``def`` or ``class`` of the student's: report its name, bind it, read its decorators."""
        if not self.dunder(node, name) and self.module_level(name) and name in self.names.protected:
            self.report(node, f"rebinds {name!r}, a name the tests use")
        self.names.own.add(name)
        if self.module_level(name):
            self.names.forget(name)
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call):
                self.decorators.add(id(decorator))
            self.visit(decorator)

    def bind_defaults(self, parameters: ast.arguments) -> None:
        """Bind a function's parameters to their defaults, inside it: a parameter whose default
        is a library object is an alias of it."""
        positional = [*parameters.posonlyargs, *parameters.args]
        with_defaults = positional[len(positional) - len(parameters.defaults):]
        for parameter, default in [*zip(with_defaults, parameters.defaults),
                                   *zip(parameters.kwonlyargs, parameters.kw_defaults)]:
            if default is not None:
                self.bind(ast.Name(id=parameter.arg, ctx=ast.Store()), default)

    def dunder(self, node: ast.AST, name: str | None) -> bool:
        """Report a method defined (by ``def``, assignment or a class's dict) that lets an
        object lie or run code when unpickled; return whether ``name`` is one."""
        if name in REPORTED_DUNDERS:
            self.report(node, f"defines {name}, which can make a comparison or a type check lie")
        elif name in UNPICKLING_DUNDERS:
            self.report(node, f"defines {name}, which runs code when an object is unpickled")
        else:
            return False
        return True

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.assigned(target)
            self.bind(target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.assigned(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.assigned(node.target)
        if node.value is not None:
            self.bind(node.target, node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.assigned(node.target)
        self.bind(node.target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.assigned(node.target)
        self.bind(node.target, node.iter, hold=True)
        self.generic_visit(node)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.assigned(node.target, local=True)
        self.bind(node.target, node.iter, hold=True, local=True)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.assigned(item.optional_vars)
                # with nullcontext(checks) as m: m may be what the call was handed.
                context = item.context_expr
                handed = [a for a in arguments(context) if isinstance(a, ast.Name)
                          and self.names.is_module_like(a.id)] if isinstance(context, ast.Call) else []
                self.bind(item.optional_vars, handed[0] if handed else context, hold=True)
        self.generic_visit(node)

    visit_AsyncWith = visit_With  # type: ignore[assignment]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.assigned(ast.Name(id=node.name, ctx=ast.Store(), lineno=node.lineno))
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.assigned(target, deleting=True)
        self.generic_visit(node)

    def assigned(self, target: ast.AST, *, local: bool = False, deleting: bool = False) -> None:
        """Report a binding of ``target`` that replaces what the tests use."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.assigned(element, local=local, deleting=deleting)
        elif isinstance(target, ast.Starred):
            self.assigned(target.value, local=local, deleting=deleting)
        elif isinstance(target, ast.Attribute):
            self.attribute_set(target, deleting)
        elif isinstance(target, ast.Subscript):
            owner = self.resolve(target.value)
            if owner in ("sys.modules", "__builtins__") or dotted(target.value) == "__builtins__":
                self.report(target, f"changes {owner or dotted(target.value)}")
        elif isinstance(target, ast.Name):
            if self.scopes and self.scopes[-1][0] == "class" and self.dunder(target, target.id):
                pass
            elif not local and self.module_level(target.id) and target.id in self.names.protected:
                verb = "deletes" if deleting else "rebinds"
                self.report(target, f"{verb} {target.id!r}, a name the tests use")

    def attribute_set(self, target: ast.Attribute, deleting: bool) -> None:
        """Report an attribute replaced (or deleted): an internal of any object, a method that
        lets an object lie, or a part of a library, named or reached through a holder."""
        written = dotted(target)
        resolved = self.library_path(target.value)
        if target.attr in REPLACED_INTERNALS and not deleting:
            path = f"{resolved}.{target.attr}" if resolved else written
            self.report(target, f"replaces {path}, {REPLACED_INTERNALS[target.attr]}{_as(written, path)}")
            return
        if self.dunder(target, target.attr):
            return
        verb = "deletes" if deleting else "replaces"
        if resolved is not None:
            path = f"{resolved}.{target.attr}"
            if (self.names.top_module(chain_root(target.value) or ""), path.split(".")[1]) in _SETTINGS:
                return  # pd.options.display.max_rows = 100
            self.report(target, f"{verb} {path}, part of a library the tests use{_as(written, path)}")
            return
        via = self.reaching(target.value)
        if via:
            self.report(target, f"{verb} {written}, part of a library the tests use (through {via})")


def _as(written: str, path: str) -> str:
    """How a report of ``path`` notes that the code wrote it otherwise, if it did."""
    return f" (written {written})" if path != written else ""
