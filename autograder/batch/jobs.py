"""A job: one submission to grade under one assignment definition, budget and kit version.

Its key is a SHA-256 of everything that decides the grade: the submitted files, the assignment's
tests (its gradebook definition), the course's nbgrader configuration, the budget and the kit's
version. A key with a stored result is never executed again; a submission whose key is already
recorded in the gradebook is not even recorded again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from autograder.batch.limits import Limits

#: Files of a submission folder that do not change the grade (nbgrader's submission time).
NOT_GRADED = frozenset({"timestamp.txt"})


def kit_version() -> str:
    """The installed kit's version (``0+unknown`` when it runs from a source tree only)."""
    try:
        return metadata.version("cnn-course-kit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def submission_files(folder: Path) -> dict[str, bytes]:
    """The files of ``submitted/<student>/<assignment>/`` that a worker needs, by relative path."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to grade one submission, and nothing shared."""

    student: str
    """The nbgrader student id."""
    assignment: str
    """The assignment id."""
    files: dict[str, bytes] = field(repr=False, compare=False)
    """The submission folder's files by relative path (``<assignment>.ipynb`` among them)."""
    template: bytes = field(repr=False, compare=False)
    """A SQLite gradebook holding only the assignment's definition."""
    config: str = field(repr=False, compare=False)
    """The course's ``nbgrader_config.py``."""
    budget: str = "cpu"
    """The training budget the notebook runs under (``CNNKIT_BUDGET``)."""
    tests_digest: str = ""
    """SHA-256 of the assignment's definition."""
    threads: int = 0
    """CPU threads the kernel's TensorFlow may use (0: TensorFlow's default)."""
    limits: Limits = field(default_factory=Limits)
    """Time, memory, process, output and disk limits of the run."""
    locked: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The assignment's locked cells (grade id -> source), which the student may not change."""
    layout: tuple[dict, ...] = field(default=(), repr=False, compare=False)
    """The assignment's nbgrader cells in notebook order: ``name``, ``cell_type``, ``locked``,
    ``grade``, ``points``, ``solution`` (to put back what a student deleted or stripped)."""

    @property
    def key(self) -> str:
        """The job key: what makes two runs interchangeable."""
        digest = hashlib.sha256()
        for name, data in sorted(self.files.items()):
            if name in NOT_GRADED:
                continue
            digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
        for part in (self.assignment, self.tests_digest, hashlib.sha256(self.config.encode()).hexdigest(),
                     self.budget, kit_version(), repr(self.limits)):
            digest.update(b"\0" + part.encode("utf-8"))
        return digest.hexdigest()

    @property
    def record_key(self) -> str:
        """What the gradebook's copy must match to need no recording: the job key and the
        submission time (a resubmission of the same notebook at another time runs nothing but is
        recorded again, for its late penalty)."""
        stamp = self.files.get("timestamp.txt", b"")
        return hashlib.sha256(self.key.encode("ascii") + b"\0" + stamp).hexdigest()

    @property
    def needs_gpu(self) -> bool:
        """Whether the job runs under the ``gpu`` budget, which only a GPU worker can meet."""
        return self.budget == "gpu"
