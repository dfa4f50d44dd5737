"""IPython's magics as the scan reads them: which a notebook may use without review, the
``{expression}`` fields IPython evaluates in a magic's line, and the Python a magic runs,
taken from its line and body as IPython itself takes it."""

from __future__ import annotations

import functools
import re

from IPython.core import magic_arguments
from IPython.utils.text import DollarFormatter

#: Magics a notebook may use without review: plotting, display settings and timing (``matplotlib``
#: with a backend's name only, ``config`` for ``InlineBackend`` only). The code ``time``,
#: ``timeit``, ``prun`` and ``capture`` run, and each ``{expression}`` IPython evaluates in a
#: magic's line, is read like the rest of the cell; any other magic is reported.
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "prun", "capture", "precision",
                            "pprint", "who", "whos", "pinfo", "pinfo2", "psearch", "config"})

#: Magics that IPython runs without expanding ``{expression}`` in their line first.
_NOT_EXPANDED = frozenset({"time", "timeit", "prun", "debug"})

#: The deepest nesting of magics read (``%%time`` around ``%%capture`` around ...).
MAX_MAGIC_DEPTH = 8


def allowed(name: str, line: str) -> bool:
    """Whether the magic ``name`` with ``line`` may be used without review."""
    if name == "matplotlib":
        return re.fullmatch(r"[\w\s-]*", line) is not None
    if name == "config":
        return re.match(r"\s*InlineBackend\.\w+\s*=", line) is not None
    return name in ALLOWED_MAGICS


def expanded(name: str, line: str) -> list[str]:
    """The ``{expression}`` fields IPython evaluates in the line of the magic ``name`` before
    the magic runs."""
    if name in _NOT_EXPANDED:
        return []
    found = []
    try:
        for _, field_name, spec, _ in DollarFormatter().parse(line):
            if field_name is not None:
                found.append(f"{field_name}:{spec}" if spec else field_name)
    except (ValueError, IndexError):
        pass
    return found


def magic_code(name: str, line: str, body: str | None, start: int,
               body_start: int) -> list[tuple[str, int, bool]]:
    """The Python a magic runs: (code, the line before its first line, whether ``__future__``
    features apply), taken from its line as IPython itself does; ``start`` and ``body_start``
    are the lines before the magic's line and its body."""
    if name == "config":
        return [(f"cfg.{line.strip()}", start, False)]
    if name == "prun":
        return [(_statement(name, line) + ("\n" + body if body is not None else ""), start, False)]
    if name in ("time", "timeit"):
        in_body = [(body, body_start, True)] if body is not None else []
        return [(_statement(name, line), start, True), *in_body]
    if name == "capture" and body is not None:
        return [(body, body_start, True)]
    return []


def _statement(name: str, line: str) -> str:
    """The statement in the line of ``%time``, ``%timeit`` or ``%prun``, their options taken off
    by their own parsers (the whole line where those refuse it)."""
    from IPython.core.error import UsageError
    from IPython.core.magics.execution import ExecutionMagics
    try:
        if name == "time":
            _, extra = magic_arguments.parse_argstring(ExecutionMagics.time, line, partial=True)
            return " ".join(extra)
        if name == "timeit":
            _, statement = _execution_magics().parse_options(
                line, "n:r:tcp:qov:", posix=False, strict=False, preserve_non_opts=True)
            return statement
        _, statement = _execution_magics().parse_options(line, "D:l:rs:T:q", list_all=True, posix=False)
        return statement
    except (UsageError, SystemExit, ValueError):
        return line


@functools.cache
def _execution_magics():
    """IPython's own ``%time`` / ``%timeit`` / ``%prun``, for their option parsers only."""
    from IPython.core.magics.execution import ExecutionMagics
    return ExecutionMagics(None)
