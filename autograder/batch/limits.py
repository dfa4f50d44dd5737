"""The limits every submission's kernel runs under, with their defaults in one place.

A grader changes one with ``cnnkit grade --limit NAME=VALUE`` (repeatable) or, for every command,
``CNNKIT_LIMITS="memory=4G,processes=512"``. Sizes are read by :func:`dask.utils.parse_bytes`,
except that a single-letter unit (``4G``, ``512M``, also ``4GB``) means the binary one (GiB, MiB),
as ``ulimit`` and Docker read memory sizes; ``2GiB`` and a plain number of bytes work as well.
Times are seconds; processes a whole number.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from dask.utils import format_bytes, parse_bytes

from autograder import settings
from autograder.errors import BadInput

_GIB = 2**30
_MIB = 2**20


class LimitError(BadInput):
    """A limit that cannot be read: an unknown name, or a value that is not one."""


@dataclass(frozen=True)
class Limits:
    """What one notebook's run may use. Each field's default is the kit's."""

    notebook_seconds: float = 2400.0
    """Wall time of the whole notebook, kernel start to last cell (the CPU budget's heaviest
    notebook takes about 70 s; the tutorial budget's ResNet-34 about 20 minutes on a GPU)."""
    cell_seconds: float = 900.0
    """Wall time of one cell before it is interrupted."""
    memory: int = 8 * _GIB
    """Memory the job's kernel may use, in bytes: a memory control group per job where the
    machine has one (its processes together, shared memory and the files of its memory-backed
    folders included), and RLIMIT_DATA on each process in any case."""
    processes: int = 512
    """Processes and threads the kernel may run at once (a ``pids`` control group per job;
    TensorFlow alone starts dozens of threads)."""
    output: int = 50 * _MIB
    """Bytes of cell output kept from the whole notebook; the rest is dropped and said so."""
    file_size: int = 1 * _GIB
    """Largest file the kernel may write (RLIMIT_FSIZE), in bytes."""
    disk: int = 2 * _GIB
    """Bytes the kernel may write in all: its only writable places are ``/tmp`` (which holds its
    working folder and its sockets) and ``/dev/shm``, memory-backed file systems whose sizes add
    up to this."""

    def with_changes(self, text: str) -> Limits:
        """These limits with ``name=value`` pairs from ``text`` (comma separated) applied; raises
        :class:`LimitError` for an unknown name or a bad value."""
        changes: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            changes[_field(name.strip())] = _value(name.strip(), value.strip())
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """One line for the grader."""
        return (f"{self.notebook_seconds:g} s per notebook, {self.cell_seconds:g} s per cell, "
                f"{format_size(self.memory)} memory, {self.processes} processes, "
                f"{format_size(self.output)} output, {format_size(self.file_size)} per file, "
                f"{format_size(self.disk)} written")


ALIASES = {"notebook": "notebook_seconds", "time": "notebook_seconds", "cell": "cell_seconds",
           "memory": "memory", "processes": "processes", "output": "output",
           "file": "file_size", "file_size": "file_size", "disk": "disk",
           "notebook_seconds": "notebook_seconds", "cell_seconds": "cell_seconds"}


def _field(name: str) -> str:
    if name not in ALIASES:
        raise LimitError(f"limit: expected one of {', '.join(sorted(set(ALIASES)))}, got {name!r}. "
                         f"Write NAME=VALUE, e.g. memory=4G.")
    return ALIASES[name]


def _value(name: str, text: str) -> float | int:
    """``text`` as the value of limit ``name``: seconds, a whole number, or a size in bytes."""
    field = _field(name)
    if field.endswith("seconds"):
        number = _number(text)
        expected = "a number of seconds"
    elif field == "processes":
        number = int(text) if text.isdigit() else None
        expected = "a whole number"
    else:
        number = parse_size(text)
        expected = "a number (sizes may end in K, M or G)"
    if number is None:
        raise LimitError(f"limit {name}: expected {expected}, got {text!r}.")
    if number <= 0:
        raise LimitError(f"limit {name}: expected more than 0, got {text!r}.")
    return number


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_size(text: str) -> int | None:
    """``text`` as a number of bytes, or None when it is not a size.

    >>> parse_size("4G") == 4 * 2**30, parse_size("2GiB") == 2 * 2**30, parse_size("1000")
    (True, True, 1000)
    >>> parse_size("4 apples") is None, parse_size("G") is None
    (True, True)
    """
    text = text.strip()
    if not text[:1].isdigit() and not text.startswith("."):
        return None  # parse_bytes reads a bare unit as one of it
    # 4G, 4GB -> 4GiB: a single-letter unit is the binary one.
    spelled = re.sub(r"(?i)(?<=[kmgtp])b?$", "iB", text)
    try:
        return parse_bytes(spelled)
    except (ValueError, OverflowError):
        return None


def format_size(size: int) -> str:
    """``size`` bytes as :func:`dask.utils.format_bytes` writes it, without the zeros of a whole
    number.

    >>> format_size(8 * 2**30), format_size(3 * 2**29), format_size(512)
    ('8 GiB', '1.50 GiB', '512 B')
    """
    return format_bytes(size).replace(".00 ", " ")


def configured(extra: str | None = None) -> Limits:
    """The kit's limits, then ``$CNNKIT_LIMITS`` (:data:`autograder.settings.LIMITS`), then
    ``extra`` (e.g. from the command line)."""
    return _applied([settings.LIMITS.get(), extra or ""])


def _applied(changes: list[str] | None) -> Limits:
    """The kit's limits with each of ``changes`` (``name=value`` pairs) applied in turn."""
    limits = Limits()
    for text in changes or []:
        limits = limits.with_changes(text) if text else limits
    return limits


def limits_setting() -> Any:
    """The ``limits`` field of a command's settings (:func:`autograder.settings.setting`):
    ``--limit NAME=VALUE``, repeatable, applied after ``$CNNKIT_LIMITS``; None: the kit's
    limits with ``$CNNKIT_LIMITS`` applied."""
    return settings.setting(
        None, "Change a limit of each notebook's run: notebook, cell (seconds), memory, output, "
              "file, disk (bytes, K/M/G), processes (defaults in autograder/batch/limits.py).",
        env=settings.LIMITS, option="--limit", metavar="NAME=VALUE", action="append",
        convert=_applied)
