"""The batch grader's ledger, kept beside nbgrader's tables in the same gradebook database.

Two tables make resume and "nothing done twice" simple:

* ``cnnkit_result``: each job key's result (the executed notebook, compressed, or why it failed).
  A key found here is never executed again.
* ``cnnkit_recorded``: which job's grades are in the gradebook for each student and assignment
  (its record key: the job key and the submission time). A submission whose current record key
  is there is skipped outright.

Only the coordinator writes either table, through :func:`record_run` (the batch grader and the
service alike): a run's result is kept before its grades are written, and the record key after the
gradebook's own commit, so a crash in between leaves a result that is simply recorded again (grades
are updated in place, never added), never one that runs again.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    select,
)
from sqlalchemy.engine import Engine

from autograder.batch.jobs import RunResult
from autograder.batch.results import SubmissionScore
from autograder.extras import database_driver

log = logging.getLogger(__name__)

METADATA = MetaData()

RESULTS = Table(
    "cnnkit_result", METADATA,
    Column("job_key", String(64), primary_key=True),
    Column("student", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("notebook", LargeBinary, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("seconds", Float, nullable=False),
    Column("cell_seconds", Float, nullable=False),
    Column("worker", String(256), nullable=False),
    Column("details", Text, nullable=False, default="{}"),
    Column("created", DateTime(timezone=True), nullable=False),
)

RECORDED = Table(
    "cnnkit_recorded", METADATA,
    Column("student", String(128), primary_key=True),
    Column("assignment", String(128), primary_key=True),
    Column("job_key", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("recorded", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Recorded:
    """What a ``cnnkit_recorded`` row tells the coordinator (its ``status`` column, ``graded`` or
    ``failed``, is for a person reading the table)."""

    job_key: str
    """The record key of the job whose grades are in the gradebook."""


class Ledger:
    """The ledger tables of one gradebook database."""

    def __init__(self, db_url: str) -> None:
        database_driver(db_url, what="--db-url")
        self.engine: Engine = create_engine(db_url, future=True)
        METADATA.create_all(self.engine)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def recorded(self, student: str, assignment: str) -> Recorded | None:
        """What is recorded for ``student``'s ``assignment``, if anything."""
        with self.engine.connect() as db:
            row = db.execute(select(RECORDED.c.job_key).where(
                RECORDED.c.student == student, RECORDED.c.assignment == assignment)).first()
        return Recorded(row.job_key) if row else None

    def result(self, key: str, *, notebook: bool = True) -> RunResult | None:
        """The stored result of job ``key``, if it ran before; without its executed notebook
        (None) unless ``notebook``."""
        columns = [c for c in RESULTS.c if notebook or c.name != "notebook"]
        with self.engine.connect() as db:
            row = db.execute(select(*columns).where(RESULTS.c.job_key == key)).first()
        if row is None:
            return None
        blob = row.notebook if notebook else None
        executed = gzip.decompress(blob) if blob is not None else None
        details = json.loads(row.details or "{}")
        return RunResult(row.job_key, executed, row.seconds, row.cell_seconds, row.worker, row.reason,
                         flags=tuple(details.get("flags", ())), notes=tuple(details.get("notes", ())),
                         judge_seconds=float(details.get("judge_seconds", 0.0)),
                         threads=int(details.get("threads", 0)))

    def store(self, student: str, assignment: str, result: RunResult) -> None:
        """Keep ``result`` under its job key (replacing an earlier one)."""
        notebook = gzip.compress(result.notebook, 6) if result.notebook is not None else None
        with self.engine.begin() as db:
            db.execute(delete(RESULTS).where(RESULTS.c.job_key == result.key))
            db.execute(RESULTS.insert().values(
                job_key=result.key, student=student, assignment=assignment, notebook=notebook,
                reason=result.reason, seconds=result.seconds, cell_seconds=result.cell_seconds,
                worker=result.worker, created=datetime.now(UTC),
                details=json.dumps({"flags": list(result.flags), "notes": list(result.notes),
                                    "judge_seconds": result.judge_seconds,
                                    "threads": result.threads})))

    def mark(self, student: str, assignment: str, key: str, status: str) -> None:
        """Say that ``key``'s grades are now the gradebook's for ``student``'s ``assignment``."""
        with self.engine.begin() as db:
            db.execute(delete(RECORDED).where(RECORDED.c.student == student,
                                              RECORDED.c.assignment == assignment))
            db.execute(RECORDED.insert().values(student=student, assignment=assignment, job_key=key,
                                                status=status, recorded=datetime.now(UTC)))

    def forget(self, key: str) -> None:
        """Drop job ``key``'s stored result, so that it runs again."""
        with self.engine.begin() as db:
            db.execute(delete(RESULTS).where(RESULTS.c.job_key == key))


@dataclass(frozen=True)
class Settled:
    """What became of one finished run once :func:`record_run` had it."""

    status: str
    """``graded`` or ``reused`` (its grades are in the gradebook), ``failed`` (the submission's
    own failure, kept as such), or ``retry`` (it says nothing of the submission: run it again)."""
    run: RunResult | None = None
    """The run; None when its worker raised instead."""
    score: SubmissionScore | None = None
    """The grades as the gradebook holds them, when graded or reused."""
    error: BaseException | None = None
    """What was raised instead of a result: by the worker when ``run`` is None, else while
    recording it. The caller words it (the batch and the service tell the grader different
    things to do)."""

    @property
    def reason(self) -> str:
        """The run's own reason when it failed or was stopped; empty otherwise (and with
        ``error``)."""
        return self.run.reason if self.run is not None and self.error is None else ""


#: Writes an executed notebook's grades into the gradebook (given the run's review flags) and
#: returns them as the gradebook holds them.
Write = Callable[[bytes, tuple[str, ...]], SubmissionScore]


def record_run(ledger: Ledger, run: RunResult | BaseException, *, student: str, assignment: str,
               record_key: str, write: Write, status: str = "graded",
               keep: bool = True) -> Settled:
    """Record ``run`` of ``student``'s ``assignment`` by the ledger's rules; return what happened.

    - an exception (the worker's) or a run that says nothing of the submission (``retry``):
      nothing is written, ``retry``;
    - otherwise the run is kept first when ``keep`` (a run that came back; not one taken from the
      ledger), so that whatever happens next costs a recording, not a run;
    - a run without a notebook: marked ``failed`` under ``record_key``, ``failed``;
    - else ``write(notebook, flags)`` (the run's review flags) records its grades in the
      gradebook, then ``record_key`` is marked ``graded``: ``status`` (``graded``, or ``reused``
      for a result run before).

    An exception while doing so is caught: ``retry`` with it as ``error``, for this one submission.
    """
    if isinstance(run, BaseException):
        return Settled("retry", error=run)
    if run.retry:
        return Settled("retry", run)
    try:
        if keep:
            ledger.store(student, assignment, run)
        if run.notebook is None:
            ledger.mark(student, assignment, record_key, "failed")
            return Settled("failed", run)
        score = write(run.notebook, run.flags)
        ledger.mark(student, assignment, record_key, "graded")
        return Settled(status, run, score)
    except Exception as exc:  # the gradebook, the ledger or nbgrader's preprocessors
        log.debug("recording %r/%s failed", student, assignment, exc_info=True)
        return Settled("retry", run, error=exc)
