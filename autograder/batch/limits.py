"""The limits every submission's kernel runs under, with their defaults in one place.

A grader changes one with ``cnnkit grade --limit NAME=VALUE`` (repeatable) or, for every command,
``CNNKIT_LIMITS="memory=4G,processes=512"``. Sizes take K, M or G suffixes; times are seconds.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass

#: The environment variable with limits for every batch (``name=value`` pairs, comma separated).
LIMITS_ENV = "CNNKIT_LIMITS"

_GIB = 2**30
_MIB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one notebook's run may use. Each field's default is the kit's."""

    notebook_seconds: float = 2400.0
    """Wall time of the whole notebook, kernel start to last cell (the CPU budget's heaviest
    notebook takes about 70 s; the tutorial budget's ResNet-34 about 20 minutes on a GPU)."""
    cell_seconds: float = 900.0
    """Wall time of one cell before it is interrupted."""
    memory: int = 8 * _GIB
    """Memory the kernel may allocate (its data segment and mappings, RLIMIT_DATA), in bytes."""
    processes: int = 512
    """Processes and threads the kernel may run at once (RLIMIT_NPROC; TensorFlow alone starts
    dozens of threads)."""
    output: int = 50 * _MIB
    """Bytes of cell output kept from the whole notebook; the rest is dropped and said so."""
    file_size: int = 1 * _GIB
    """Largest file the kernel may write (RLIMIT_FSIZE), in bytes."""
    disk: int = 2 * _GIB
    """Bytes the kernel may write in all: its working folder and /tmp are memory-backed file
    systems of this size."""

    def with_changes(self, text: str) -> "Limits":
        """These limits with ``name=value`` pairs from ``text`` (comma separated) applied."""
        changes = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            changes[_field(name.strip())] = _value(name.strip(), value.strip())
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """One line for the grader."""
        return (f"{self.notebook_seconds:g} s per notebook, {self.cell_seconds:g} s per cell, "
                f"{_size(self.memory)} memory, {self.processes} processes, {_size(self.output)} "
                f"output, {_size(self.file_size)} per file, {_size(self.disk)} written")


ALIASES = {"notebook": "notebook_seconds", "time": "notebook_seconds", "cell": "cell_seconds",
           "memory": "memory", "processes": "processes", "output": "output",
           "file": "file_size", "file_size": "file_size", "disk": "disk",
           "notebook_seconds": "notebook_seconds", "cell_seconds": "cell_seconds"}


def _field(name: str) -> str:
    if name not in ALIASES:
        raise ValueError(f"limit: expected one of {', '.join(sorted(set(ALIASES)))}, got {name!r}. "
                         f"Write NAME=VALUE, e.g. memory=4G.")
    return ALIASES[name]


def _value(name: str, text: str) -> float | int:
    field = _field(name)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)i?B?", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"limit {name}: expected a number (sizes may end in K, M or G), got "
                         f"{text!r}.")
    number = float(match.group(1)) * {"": 1, "K": 2**10, "M": _MIB, "G": _GIB}[match.group(2).upper()]
    if number <= 0:
        raise ValueError(f"limit {name}: expected more than 0, got {text!r}.")
    return number if field.endswith("seconds") else int(number)


def _size(value: int) -> str:
    for unit, scale in (("GiB", _GIB), ("MiB", _MIB)):
        if value >= scale:
            return f"{value / scale:g} {unit}"
    return f"{value} B"


def configured(extra: str | None = None) -> Limits:
    """The kit's limits, then ``$CNNKIT_LIMITS``, then ``extra`` (e.g. from the command line)."""
    limits = Limits()
    if os.environ.get(LIMITS_ENV):
        limits = limits.with_changes(os.environ[LIMITS_ENV])
    if extra:
        limits = limits.with_changes(extra)
    return limits
