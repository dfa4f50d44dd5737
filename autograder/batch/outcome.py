"""What the batch grader knows about each submission: where it came from and how it was graded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch.results import PointsTotal, TestScore


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one assignment, placed in nbgrader's ``submitted/`` folder."""

    student: str
    """The nbgrader student id."""
    assignment: str
    """The assignment id."""
    notebook: Path
    """``submitted/<student>/<assignment>/<assignment>.ipynb`` in the course folder."""
    origin: str
    """Where it came from, for the grader: a path, or ``<zip>:<member>``."""


@dataclass(frozen=True)
class Unplaced:
    """A file the intake could not turn into a submission, and why."""

    origin: str
    """The file: a path, or ``<zip>:<member>``."""
    reason: str
    """What was wrong and what to do, in one or two sentences."""


#: Outcome statuses: executed now; taken from an identical earlier run; already in the gradebook
#: under the same key; could not be graded.
STATUSES = ("graded", "reused", "unchanged", "failed")


@dataclass(frozen=True)
class Outcome(PointsTotal):
    """How one submission was graded."""

    student: str
    """The nbgrader student id."""
    assignment: str
    """The assignment id."""
    status: str
    """One of :data:`STATUSES`."""
    tests: tuple[TestScore, ...] = field(default_factory=tuple)
    """The per-test scores recorded in the gradebook, in notebook order (empty when failed)."""
    seconds: float | None = None
    """Wall time of the notebook's grading run on its worker, when it ran (or when the reused
    result ran)."""
    reason: str = ""
    """Why it failed, for the grader and the student; empty otherwise."""
    worker: str = ""
    """Which worker ran it (host and process, or the Dask worker's address)."""
    job_key: str = ""
    """The job key (see :mod:`autograder.batch.jobs`)."""
    review: tuple[str, ...] = ()
    """Why a person should look at this submission before its grade counts (code that could
    change a grade by other means than its merit); empty when nothing was found."""
    notes: tuple[str, ...] = ()
    """What went wrong in the run, one sentence each (a cell that timed out, a dead kernel, a
    restored test cell)."""

    @classmethod
    def graded(cls, student: str, assignment: str, tests: tuple[TestScore, ...], *,
               status: str = "graded", seconds: float | None = None, worker: str = "",
               job_key: str = "", review: tuple[str, ...] = (),
               notes: tuple[str, ...] = ()) -> Outcome:
        """A submission whose grades are in the gradebook: ``graded``, ``reused`` or ``unchanged``.

        >>> Outcome.graded("alice", "pooling", (), status="reused").status
        'reused'
        """
        if status not in STATUSES or status == "failed":
            raise ValueError(f"status: expected one of graded, reused, unchanged, got {status!r}.")
        return cls(student, assignment, status, tuple(tests), seconds=seconds, worker=worker,
                   job_key=job_key, review=tuple(review), notes=tuple(notes))

    @classmethod
    def failed(cls, student: str, assignment: str, reason: str, *, seconds: float | None = None,
               worker: str = "", job_key: str = "", review: tuple[str, ...] = (),
               notes: tuple[str, ...] = ()) -> Outcome:
        """A submission that could not be graded, and why.

        >>> Outcome.failed("bob", "pooling", "no notebook came back.").tests
        ()
        """
        return cls(student, assignment, "failed", (), seconds=seconds, reason=reason, worker=worker,
                   job_key=job_key, review=tuple(review), notes=tuple(notes))
