"""The kit's environment variables, each declared once with its default and what it does.

Every ``CNNKIT_*`` variable is read here and nowhere else. The grader sets them; code in a
student's kernel may read them (a notebook trains with the budget's values) but nothing that
decides a grade does: the judge takes its budget and data folders from the grader's own
configuration.

``cnnkit settings`` (or ``python -m autograder.settings``) lists them with their current values.

A command's settings are declared here too, in one way: a frozen dataclass whose fields are made
by :func:`setting`, each with its default, its help, its option and, where it has one, its
variable. :func:`add_options` generates the command line's options from them and
:func:`from_options` builds the dataclass from what was given, so that a setting's help, default
and spelling are written once.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any, TypeVar


@dataclass(frozen=True)
class Variable:
    """One environment variable of the kit."""

    name: str
    default: str
    """Its value when unset ("" for none)."""
    help: str
    """What it does, in full sentences."""

    def get(self) -> str:
        """Its value, stripped; the default when it is unset or blank."""
        value = os.environ.get(self.name, "").strip()
        return value or self.default


BUDGET = Variable(
    "CNNKIT_BUDGET", "",
    "The training budget a notebook trains under (tutorial, gpu, cpu, smoke). Unset: cpu under "
    "nbgrader, tutorial elsewhere. The grader sets it for each kernel; it never changes how a "
    "notebook is judged.")
DATA_DIR = Variable(
    "CNNKIT_DATA_DIR", "",
    "A folder holding the MNIST files (train.csv.gz, test.csv.gz, SHA256SUMS) to use instead of "
    "the ones that ship with the kit.")
EXCHANGE = Variable(
    "CNNKIT_EXCHANGE", "",
    "The nbgrader exchange folder of the course (release, submit, collect, feedback). Unset: "
    "<course>/.exchange.")
CELL_TIMEOUT = Variable(
    "CNNKIT_CELL_TIMEOUT", "900",
    "Seconds one notebook cell may run under nbgrader before it is interrupted.")
LIMITS = Variable(
    "CNNKIT_LIMITS", "",
    "Limits of every graded notebook's run as NAME=VALUE pairs, comma separated (for example "
    "memory=4G,processes=512); see cnnkit grade --help.")
CACHE = Variable(
    "CNNKIT_CACHE", "",
    "Where the grader keeps what it prepares once (the kernels' copy of the student kit and of "
    "the MNIST files, parsed data). Unset: $XDG_CACHE_HOME/cnnkit, else ~/.cache/cnnkit.")

SANDBOXED = Variable(
    "CNNKIT_SANDBOXED", "",
    "Set to 1 by the grader in a sandboxed kernel's environment, so that a notebook can tell it "
    "is being graded; the kit decides nothing from it (the judge and the sandbox do not ask the "
    "kernel).")

VARIABLES: tuple[Variable, ...] = (BUDGET, DATA_DIR, EXCHANGE, CELL_TIMEOUT, LIMITS, CACHE, SANDBOXED)


#: The key of a setting's declaration in its dataclass field's metadata.
DECLARED = "cnnkit.setting"

T = TypeVar("T")


@dataclass(frozen=True)
class Declared:
    """What :func:`setting` attaches to a field: all its command line needs besides its default."""

    help: str
    """What it does, in full sentences; the option's help, with the default added."""
    env: Variable | None = None
    """The variable that gives it when its option is not given (an option that repeats: the
    variable's value comes first, the options' after)."""
    option: str | None = None
    """Its option (None: ``--`` and the field's name with dashes)."""
    aliases: tuple[str, ...] = ()
    """Older spellings of the option, still taken but not shown."""
    shown: str | None = None
    """The default as ``--help`` shows it (None: the default itself)."""
    convert: Callable[[Any], Any] | None = None
    """Turns the option's value into the field's (None: it is the field's)."""
    argparse: Mapping[str, Any] = field(default_factory=dict)
    """More of :meth:`argparse.ArgumentParser.add_argument`'s keywords (``choices``,
    ``metavar``, ``action``, ``type`` where the field's type is not one argparse calls)."""


def setting(default: Any, help: str, *, env: Variable | None = None, option: str | None = None,
            aliases: tuple[str, ...] = (), shown: str | None = None,
            convert: Callable[[Any], Any] | None = None, **argparse_options: Any) -> Any:
    """A field of a settings dataclass with its default, its ``help`` and what its option needs
    (see :class:`Declared`; ``argparse_options`` go to ``add_argument``). The option's type
    comes from the field's annotation: ``int``, ``float`` and ``Path`` are converted, a ``bool``
    is a flag (``--name``, or ``--name/--no-name`` when it defaults to True).

    >>> @dataclass(frozen=True)
    ... class Example:
    ...     port: int = setting(8090, "The TCP port to listen on.")
    >>> parser = argparse.ArgumentParser()
    >>> add_options(parser, Example)
    >>> from_options(Example, parser.parse_args(["--port", "80"]))
    Example(port=80)
    """
    declared = Declared(help, env, option, tuple(aliases), shown, convert,
                        MappingProxyType(dict(argparse_options)))
    return field(default=default, metadata={DECLARED: declared})


def _declared(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if DECLARED in f.metadata}


def _plain(hint: Any) -> Any:
    """``hint`` without ``None`` (``int | None`` -> ``int``)."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [k for k in typing.get_args(hint) if k is not NoneType]
        return kinds[0] if len(kinds) == 1 else hint
    return hint


def add_options(parser: argparse.ArgumentParser, cls: type, *names: str,
                exclude: tuple[str, ...] = ()) -> None:
    """Add to ``parser`` the options of the settings dataclass ``cls``: the fields ``names``, in
    that order, else every field declared with :func:`setting` but those in ``exclude``. Each
    option's value lands under the field's name; an option that is not given takes its
    variable's value when set, else the field's default."""
    fields = _declared(cls)
    hints = typing.get_type_hints(cls)
    for name in names or [n for n in fields if n not in exclude]:
        found = fields[name]
        declared: Declared = found.metadata[DECLARED]
        kind = _plain(hints[name])
        options = dict(declared.argparse)
        if kind is bool:
            options.setdefault("action", argparse.BooleanOptionalAction if found.default
                                         else "store_true")
        elif kind in (int, float, Path) and "action" not in options:
            options.setdefault("type", kind)
        repeats = options.get("action") == "append"
        default = found.default
        if declared.env is not None and declared.env.get():
            default = [declared.env.get()] if repeats else declared.env.get()
        flag = declared.option or "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, default=default, help=_help(declared, found.default,
                                                                         kind, repeats), **options)
        for alias in declared.aliases:
            parser.add_argument(alias, dest=name, default=argparse.SUPPRESS,
                                help=argparse.SUPPRESS, **options)


def _help(declared: Declared, default: Any, kind: Any, repeats: bool) -> str:
    """The option's help: the declaration's, then its default, whether it repeats, its variable."""
    notes = []
    if declared.shown is not None:
        notes.append(f"default: {declared.shown}")
    elif kind is bool:
        notes += ["default: yes"] if default else []
    elif default is not None:
        notes.append(f"default: {default}")
    if repeats:
        notes.append("repeatable")
    if declared.env is not None:
        notes.append(f"applied after ${declared.env.name}" if repeats else f"${declared.env.name} when set")
    text = declared.help + (f" ({'; '.join(notes)})" if notes else "")
    return text.replace("%", "%%")  # argparse formats help with %


def from_options(cls: type[T], args: argparse.Namespace, **given: Any) -> T:
    """The settings dataclass ``cls`` from the options :func:`add_options` added to the parser
    that read ``args`` (each converted as declared), and the fields ``given``; a field whose
    option the command does not have keeps its default."""
    values = dict(given)
    for name, found in _declared(cls).items():
        if name in values or not hasattr(args, name):
            continue
        convert = found.metadata[DECLARED].convert
        value = getattr(args, name)
        values[name] = convert(value) if convert is not None else value
    return cls(**values)


def cache_dir() -> Path:
    """The grader's cache folder (:data:`CACHE`), created if needed."""
    configured = CACHE.get()
    if configured:
        folder = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
        folder = Path(base) / "cnnkit"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def publish(partial: Path, folder: Path) -> Path:
    """Make the folder ``partial``, just built in the cache, readable by every user (a sandboxed
    kernel runs as another one) and move it to ``folder`` in one step; if another worker
    published it first, keep theirs. Returns ``folder``."""
    for path in [partial, *partial.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        partial.rename(folder)
    except OSError:  # another worker made it first
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def describe() -> str:
    """Every variable with its help and current value, for a person."""
    lines = []
    for variable in VARIABLES:
        current = os.environ.get(variable.name)
        shown = f"{current!r}" if current is not None else f"unset (default {variable.default!r})"
        lines.append(f"{variable.name} = {shown}\n    {variable.help}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe())
    sys.exit(0)
