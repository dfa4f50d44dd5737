"""A job: one submission to grade under one assignment definition, budget and kit version.

Its key is a SHA-256 of everything that decides the grade: the submitted files, the assignment's
tests (its gradebook definition), the course's nbgrader configuration, the budget, the limits, and
the code that grades (every module of the kit's package, and nbgrader's version), so that editing
a check or the judge never reuses a stale grade. A key with a stored result is never executed
again; a submission whose key is already recorded in the gradebook is not even recorded again.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import autograder
from autograder.batch.limits import Limits

#: Files of a submission folder that do not change the grade (nbgrader's submission time).
NOT_GRADED = frozenset({"timestamp.txt"})


@functools.lru_cache(maxsize=4)
def grading_code_digest(root: Path | None = None) -> str:
    """A SHA-256 of the code that grades: every ``.py`` file of the kit's package (or of the
    package folder ``root``), by path and content, and nbgrader's version."""
    root = root or Path(autograder.__file__).resolve().parent
    hasher = hashlib.sha256(metadata.version("nbgrader").encode())
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            hasher.update(b"\0" + path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()


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
    """The most CPU threads the kernel's TensorFlow may use (0: as many as the cores). The figure
    itself is decided when the job starts, from the jobs then running
    (:func:`autograder.batch.capacity.share`), and is not part of the key: no grade depends on it."""
    limits: Limits = field(default_factory=Limits)
    """Time, memory, process, output and disk limits of the run."""
    locked: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The assignment's locked cells (grade id -> source), which the student may not change."""
    layout: tuple[dict, ...] = field(default=(), repr=False, compare=False)
    """The assignment's nbgrader cells in notebook order: ``name``, ``cell_type``, ``locked``,
    ``grade``, ``points``, ``solution`` (to put back what a student deleted or stripped)."""
    course_files: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    """The course's own checks (:mod:`autograder.authoring.course_checks`) by path relative to the
    course folder: laid out beside the private course for the judge, and beside the student
    kit's modules for the kernel."""

    @property
    def key(self) -> str:
        """The job key: what makes two runs interchangeable."""
        digest = hashlib.sha256()
        for name, data in sorted(self.files.items()):
            if name in NOT_GRADED:
                continue
            digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
        for name, data in sorted(self.course_files.items()):
            digest.update(b"\0course:" + name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
        for part in (self.assignment, self.tests_digest, hashlib.sha256(self.config.encode()).hexdigest(),
                     self.budget, grading_code_digest(), repr(self.limits)):
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


@dataclass(frozen=True)
class RunResult:
    """What a worker hands back for one job."""

    key: str
    """The job key."""
    notebook: bytes | None
    """The executed notebook (``autograded/<student>/<assignment>/<assignment>.ipynb``), or None
    when nbgrader produced none."""
    seconds: float
    """Wall time of the ``nbgrader autograde`` process."""
    cell_seconds: float
    """Time spent executing cells, from nbclient's timing records (0 when unknown)."""
    worker: str
    """Host and process that ran it."""
    reason: str = ""
    """Why no notebook came back; empty on success."""
    log_tail: str = ""
    """The last lines nbgrader printed."""
    retry: bool = False
    """True when the failure says nothing about the submission (the run was killed from
    outside): such a result is not kept, and the next run tries again."""
    flags: tuple[str, ...] = ()
    """Why the submission needs a person to look at it (code that could change a grade by other
    means than its merit, an edited locked cell); empty when it does not."""
    notes: tuple[str, ...] = ()
    """What went wrong in the run, one sentence each (a timeout in a cell, a dead kernel, a
    restored test cell, an ignored file)."""
    judge_seconds: float = 0.0
    """Seconds the judge spent deciding the test cells (0 when unknown)."""
    threads: int = 0
    """TensorFlow threads the kernel was given, decided when the job started: every core when it
    ran alone, a share when others ran (0 when no run started, or for a result stored before)."""
