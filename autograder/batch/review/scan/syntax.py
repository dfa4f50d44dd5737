"""Small readings of Python's syntax tree that the scan shares: a string constant's text, how a
reference is written, the name it starts from, what an expression may carry, what a binding or
an import binds."""

from __future__ import annotations

import ast
from collections.abc import Iterator

#: Calls that return what they are given (or part of it): an alias can pass through them.
_PASSING_CALLS = frozenset({"list", "tuple", "set", "frozenset", "dict", "iter", "next",
                            "reversed", "sorted", "zip", "enumerate"})


def text(node: ast.AST | None) -> str | None:
    """The value of a string constant, or None for any other node."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def dotted(node: ast.AST) -> str:
    """A reference as a report writes it (``np.testing.assert_allclose``, ``f(...)``, ``x[]``),
    cut to about 40 characters."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        written = ast.unparse(node)
        return written if len(written) <= 40 else f"{dotted(node.func)}(...)"
    if isinstance(node, ast.Subscript):
        return f"{dotted(node.value)}[]"
    written = ast.unparse(node)
    return written if len(written) <= 40 else written[:37] + "..."


def chain_root(node: ast.AST) -> str | None:
    """The name a reference starts from (``k`` of ``k.close``, ``c`` of ``getattr(c, 'x')``)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and node.args:
            node = node.args[0]
        else:
            return None


def carriers(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and the expressions in it whose value it may be or hold: the owner of an
    attribute or item, the parts of a container or a condition, the arguments of calls that
    pass them through (``list``, ``getattr``, ``type``); not the insides of other calls or lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (ast.Attribute, ast.Subscript, ast.Starred, ast.NamedExpr)):
            stack.append(current.value)
        elif isinstance(current, ast.Call):
            name = current.func.id if isinstance(current.func, ast.Name) else None
            if name in _PASSING_CALLS or name in ("getattr", "type", "vars"):
                stack.extend(current.args)
        elif isinstance(current, (ast.List, ast.Tuple, ast.Set)):
            stack.extend(current.elts)
        elif isinstance(current, ast.Dict):
            stack.extend(value for value in current.values if value is not None)
        elif isinstance(current, ast.IfExp):
            stack += [current.body, current.orelse]
        elif isinstance(current, ast.BoolOp):
            stack.extend(current.values)
        elif isinstance(current, ast.BinOp):  # [checks] * 2
            stack += [current.left, current.right]
        elif isinstance(current, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            stack.append(current.value if isinstance(current, ast.DictComp) else current.elt)
            stack.extend(generator.iter for generator in current.generators)


def arguments(call: ast.Call) -> list[ast.AST]:
    """A call's arguments, positional and keyword, unstarred."""
    found = [*call.args, *(keyword.value for keyword in call.keywords)]
    return [a.value if isinstance(a, ast.Starred) else a for a in found]


def bound_names(target: ast.AST) -> list[ast.Name]:
    """The names an assignment to ``target`` binds (``a, *b = ...`` binds ``a`` and ``b``)."""
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in bound_names(element)]
    if isinstance(target, ast.Starred):
        return bound_names(target.value)
    return []


def imports(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(name bound, what it is bound to) for each name an import binds: ``import a.b`` binds
    ``a`` to ``a``, ``import a.b as c`` binds ``c`` to ``a.b``, ``from a import b as c`` binds
    ``c`` to ``a.b`` (``*`` to ``a.*``)."""
    if isinstance(node, ast.Import):
        found = []
        for alias in node.names:
            top = alias.name.split(".")[0]
            found.append((alias.asname, alias.name) if alias.asname else (top, top))
        return found
    return [(alias.asname or alias.name, f"{node.module or ''}.{alias.name}") for alias in node.names]
