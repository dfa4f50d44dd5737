"""Parsing a cell the way the kernel does: IPython's syntax transformations first, then Python's
compiler with the ``__future__`` features that earlier cells turned on; a failure becomes a
``SyntaxError`` whose line is the cell's."""

from __future__ import annotations
import __future__

import ast

from IPython.core.inputtransformer2 import TransformerManager


def transformed(source: str) -> str:
    """The cell as plain Python, after IPython's magics and shell escapes are turned into calls."""
    try:
        return TransformerManager().transform_cell(source)
    except (SyntaxError, ValueError):
        raise
    except Exception as error:  # IPython's transformers gave up on the text
        raise SyntaxError(f"IPython could not read it ({type(error).__name__}: {error})") from error


def parse(python: str, future: int) -> ast.Module:
    """``python`` (as :func:`transformed` gives it) parsed with the ``__future__`` compiler
    flags ``future``; raises ``SyntaxError``, ``ValueError`` (null bytes), ``RecursionError`` or
    ``MemoryError`` when it cannot be."""
    return compile(python, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | future, dont_inherit=True)


def blank_lead(source: str) -> int:
    """Blank lines IPython drops from the top of a cell before it parses it."""
    lines = source.splitlines()
    lead = 0
    while lead < len(lines) and not lines[lead].strip():
        lead += 1
    return lead if lead < len(lines) else 0


def syntax_error(error: Exception, offset: int) -> SyntaxError:
    """``error``, raised while parsing text whose line 1 is the cell's line ``offset + 1``, as a
    SyntaxError whose line is the cell's."""
    if isinstance(error, SyntaxError):
        return SyntaxError(error.msg, (error.filename, (error.lineno or 1) + offset, error.offset,
                                       error.text))
    if isinstance(error, (RecursionError, MemoryError)):
        return SyntaxError("nested too deeply for the scan to read", ("<cell>", offset + 1, 0, ""))
    return SyntaxError(str(error), ("<cell>", offset + 1, 0, ""))  # null bytes: a ValueError


def future_flags(tree: ast.Module) -> int:
    """The compiler flags of the ``from __future__`` imports at the top level of a cell: IPython
    compiles each top-level statement on its own, so each such import turns its feature on."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags
