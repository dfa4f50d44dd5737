"""The kit's environment variables, each declared once with its default and what it does.

Every ``CNNKIT_*`` variable is read here and nowhere else. The grader sets them; code in a
student's kernel may read them (a notebook trains with the budget's values) but nothing that
decides a grade does: the judge takes its budget and data folders from the grader's own
configuration.

``cnnkit settings`` (or ``python -m autograder.settings``) lists them with their current values.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


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

VARIABLES: tuple[Variable, ...] = (BUDGET, DATA_DIR, EXCHANGE, CELL_TIMEOUT, LIMITS, CACHE)


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
