"""The durable queue: every accepted submission is a row of ``cnnkit_serve_submission`` (see
:mod:`.tables`) from the moment its receipt is given, until it is done, failed or replaced.

Each change of state is one transaction, conditional on the state it leaves, so that two services
(or a service and its own restart) never both take a submission, and a submission is finished
once: accept (with the replacement of a waiting one of the same student and assignment) ->
claim -> finish or fail, or release back to waiting. A service that dies leaves its claims
``running``; the next one puts them back (:meth:`Queue.carry_on`).

A claim counts as a try of the submission (``claims``, at most three before a failure of the
worker fails it), unless it ends because the service stopped or died: those are put back
uncharged, so that no number of restarts fails a student's work. An instructor can put a failed
submission back in the queue (:meth:`Queue.grade_again`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.engine import CursorResult, Engine

from autograder.serve import policy
from autograder.serve.tables import EXCHANGE, FEEDBACK, RUN, SUBMISSION, as_utc, now

log = logging.getLogger(__name__)

#: The largest id a database integer holds (SQLite's and PostgreSQL's BIGINT): a larger one in
#: a URL is no submission, and would overflow the query.
MAX_ID = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """A submission id from a URL, or None when ``text`` is not one (not decimal digits, 0,
    larger than :data:`MAX_ID`).

    >>> parse_id("12"), parse_id("9223372036854775808"), parse_id("x"), parse_id("١٢")
    (12, None, None, None)
    """
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def notebook_name(assignment: str) -> str:
    """The file nbgrader grades: ``<assignment>.ipynb``."""
    return f"{assignment}.ipynb"


def pack(files: Mapping[str, bytes]) -> bytes:
    """A submission's files (relative path -> bytes) as one compressed blob."""
    plain = {name: base64.b64encode(data).decode("ascii") for name, data in sorted(files.items())}
    return gzip.compress(json.dumps(plain).encode("utf-8"), 6)


def unpack(blob: bytes) -> dict[str, bytes]:
    """The files :func:`pack` stored."""
    plain = json.loads(gzip.decompress(blob).decode("utf-8"))
    return {name: base64.b64decode(data) for name, data in plain.items()}


@dataclass(frozen=True)
class Receipt:
    """What a student is told when a submission is accepted."""

    id: int
    """The submission id."""
    student: str
    """Whose it is."""
    assignment: str
    """The assignment id."""
    received: datetime
    """When it was accepted (UTC)."""
    sha256: str
    """SHA-256 of the notebook, as uploaded."""
    replaced: tuple[int, ...] = ()
    """Waiting submissions of the same student and assignment that this one replaced."""
    identical_to: int | None = None
    """An earlier graded submission of the same student with the very same notebook, whose
    result is reused."""

    def to_dict(self) -> dict:
        """The receipt as JSON-ready data."""
        return {"id": self.id, "student": self.student, "assignment": self.assignment,
                "received": self.received.isoformat(), "sha256": self.sha256,
                "replaced": list(self.replaced), "identical_to": self.identical_to}


@dataclass(frozen=True)
class Claimed:
    """A submission taken from the queue by this service."""

    id: int
    student: str
    assignment: str
    source: str
    """``web`` or ``exchange``."""
    files: dict[str, bytes]
    """The submission's files: the notebook and ``timestamp.txt``."""
    secret: str | None
    """The exchange's submission secret (feedback is released under it)."""
    received: datetime
    claims: int
    """How many times it was claimed, this time included."""


@dataclass(frozen=True)
class Graded:
    """What :meth:`Queue.finish` keeps of a graded submission."""

    how: str
    """``graded`` (its notebook ran) or ``reused`` (an identical one's result)."""
    job_key: str
    score: float
    """After the late penalty."""
    max_score: float
    penalty: float
    tests: Sequence[Mapping]
    """Per test: ``grade_id``, ``score``, ``max_score``, ``message``."""
    flags: Sequence[str]
    notes: Sequence[str]
    run_seconds: float | None
    worker: str
    feedback_html: bytes | None


def _uncharged(charged: bool):
    """The ``claims`` of a submission put back: as it is when the try was ``charged``, else one
    less (its claim counted it)."""
    if charged:
        return SUBMISSION.c.claims
    return case((SUBMISSION.c.claims > 0, SUBMISSION.c.claims - 1), else_=0)


def _new_id(inserted: CursorResult) -> int:
    """The id of the one row an insert made (SQLAlchemy types it as optional: a bulk insert has
    none)."""
    key = inserted.inserted_primary_key
    if key is None:
        raise RuntimeError("insert: expected the new row's id, got none. The database driver "
                           "does not report inserted keys.")
    return int(key[0])


class Queue:
    """The queue in one database, as seen by the service ``instance``."""

    def __init__(self, engine: Engine, instance: str) -> None:
        self.engine = engine
        self.instance = instance

    # --- accepting -------------------------------------------------------------------------

    def accept(self, *, student: str, assignment: str, source: str, origin: str,
               files: Mapping[str, bytes], timestamp: str, received: datetime, late_seconds: float,
               secret: str | None = None, exchange_folder: str | None = None) -> Receipt:
        """Queue a submission, in one transaction: its row, the replacement of a waiting one of
        the same student and assignment, and, for the exchange, the folder it came from."""
        notebook = files[notebook_name(assignment)]
        digest = hashlib.sha256(notebook).hexdigest()
        with self.engine.begin() as db:
            new_id = _new_id(db.execute(insert(SUBMISSION).values(
                student=student, assignment=assignment, source=source, origin=origin[:512],
                received=received, timestamp=timestamp, sha256=digest, size=len(notebook),
                files=pack(files), secret=secret, late_seconds=late_seconds, state="waiting",
                claims=0, reason="", flags="[]", notes="[]", worker="")))
            owner = and_(SUBMISSION.c.student == student, SUBMISSION.c.assignment == assignment)
            replaced = [row.id for row in db.execute(select(SUBMISSION.c.id).where(
                owner, SUBMISSION.c.state == "waiting", SUBMISSION.c.id != new_id))]
            if replaced:
                db.execute(update(SUBMISSION).where(SUBMISSION.c.id.in_(replaced),
                                                    SUBMISSION.c.state == "waiting")
                           .values(state="replaced", replaced_by=new_id, finished_at=received))
            identical = db.execute(select(func.max(SUBMISSION.c.id)).where(
                owner, SUBMISSION.c.sha256 == digest, SUBMISSION.c.state == "done")).scalar()
            if exchange_folder is not None:
                db.execute(insert(EXCHANGE).values(folder=exchange_folder, seen=received,
                                                   submission_id=new_id))
        return Receipt(new_id, student, assignment, received, digest, tuple(replaced), identical)

    def uploads_since(self, student: str, assignment: str, since: datetime) -> list[datetime]:
        """When ``student`` uploaded ``assignment`` since ``since`` (for the attempt limit)."""
        with self.engine.connect() as db:
            rows = db.execute(select(SUBMISSION.c.received).where(
                SUBMISSION.c.student == student, SUBMISSION.c.assignment == assignment,
                SUBMISSION.c.received > since))
            return [as_utc(row.received) for row in rows]

    # --- scheduling ------------------------------------------------------------------------

    def waiting(self) -> list[policy.Waiting]:
        """The submissions waiting, oldest first."""
        with self.engine.connect() as db:
            rows = db.execute(select(SUBMISSION.c.id, SUBMISSION.c.student, SUBMISSION.c.received)
                              .where(SUBMISSION.c.state == "waiting").order_by(SUBMISSION.c.id))
            return [policy.Waiting(r.id, r.student, as_utc(r.received)) for r in rows]

    def running_students(self) -> set[str]:
        """Students with a submission running (on any service)."""
        with self.engine.connect() as db:
            return {r.student for r in db.execute(select(SUBMISSION.c.student).where(
                SUBMISSION.c.state == "running").distinct())}

    def last_served(self, students: Sequence[str]) -> dict[str, datetime]:
        """When each of ``students`` last had a submission started."""
        if not students:
            return {}
        with self.engine.connect() as db:
            rows = db.execute(select(SUBMISSION.c.student, func.max(SUBMISSION.c.claimed_at))
                              .where(SUBMISSION.c.student.in_(list(students)),
                                     SUBMISSION.c.claimed_at.is_not(None))
                              .group_by(SUBMISSION.c.student))
            return {student: as_utc(moment) for student, moment in rows}

    def next_to_run(self) -> policy.Waiting | None:
        """The submission the fair policy starts next (see :func:`.policy.next_to_run`)."""
        waiting = self.waiting()
        if not waiting:
            return None
        students = sorted({w.student for w in waiting})
        return policy.next_to_run(waiting, self.running_students(), self.last_served(students))

    def claim(self, submission_id: int) -> Claimed | None:
        """Take a waiting submission for this service; None when another took it first or it was
        replaced meanwhile."""
        moment = now()
        with self.engine.begin() as db:
            taken = db.execute(update(SUBMISSION).where(
                SUBMISSION.c.id == submission_id, SUBMISSION.c.state == "waiting").values(
                state="running", claimed_by=self.instance, claimed_at=moment,
                claims=SUBMISSION.c.claims + 1)).rowcount
            if taken != 1:
                return None
            row = db.execute(select(SUBMISSION).where(SUBMISSION.c.id == submission_id)).one()
        return Claimed(row.id, row.student, row.assignment, row.source, unpack(row.files),
                       row.secret, as_utc(row.received), row.claims)

    def release(self, submission_id: int, *, charged: bool = True) -> bool:
        """Put a submission this service runs back in the queue: after a run killed from outside
        (``charged``: it was one of its tries), or because the service stops (not charged)."""
        with self.engine.begin() as db:
            return db.execute(update(SUBMISSION).where(
                SUBMISSION.c.id == submission_id, SUBMISSION.c.state == "running",
                SUBMISSION.c.claimed_by == self.instance).values(
                state="waiting", claimed_by=None, claimed_at=None,
                claims=_uncharged(charged))).rowcount == 1

    def carry_on(self, instances: Sequence[str], outcome: str = "lost") -> list[int]:
        """Put back in the queue, uncharged, what ``instances`` were running (services that died,
        or this one stopping), and mark their unfinished runs ``outcome`` (``lost``, or
        ``stopped``); return the submissions put back."""
        if not instances:
            return []
        with self.engine.begin() as db:
            ids = [r.id for r in db.execute(select(SUBMISSION.c.id).where(
                SUBMISSION.c.state == "running",
                SUBMISSION.c.claimed_by.in_(list(instances))))]
            if ids:
                # A start that came to nothing does not count as the student's turn, nor as one
                # of the submission's tries: cleared, it goes first again by the time it was
                # accepted.
                db.execute(update(SUBMISSION).where(SUBMISSION.c.id.in_(ids),
                                                    SUBMISSION.c.state == "running")
                           .values(state="waiting", claimed_by=None, claimed_at=None,
                                   claims=_uncharged(False)))
            db.execute(update(RUN).where(RUN.c.instance.in_(list(instances)),
                                         RUN.c.finished.is_(None))
                       .values(finished=now(), outcome=outcome))
        return ids

    def grade_again(self, submission_ids: Sequence[int]) -> list:
        """Put failed submissions back in the queue with their tries cleared (the instructor's
        "grade again"); return the rows put back (as they were: their ``job_key`` says which
        stored result to forget)."""
        ids = [i for i in submission_ids if 0 < i <= MAX_ID]
        if not ids:
            return []
        columns = [c for c in SUBMISSION.c if c.name != "files"]
        with self.engine.begin() as db:
            rows = list(db.execute(select(*columns).where(SUBMISSION.c.id.in_(ids),
                                                          SUBMISSION.c.state == "failed")))
            if rows:
                db.execute(update(SUBMISSION).where(SUBMISSION.c.id.in_([r.id for r in rows]),
                                                    SUBMISSION.c.state == "failed").values(
                    state="waiting", claims=0, claimed_by=None, claimed_at=None,
                    finished_at=None, reason="", flags="[]", notes="[]"))
        return rows

    # --- runs and results ------------------------------------------------------------------

    def run_started(self, submission_id: int) -> int:
        """Note that a worker starts the submission's notebook; return the run's id."""
        with self.engine.begin() as db:
            return _new_id(db.execute(insert(RUN).values(submission_id=submission_id,
                                                         instance=self.instance, started=now())))

    def run_ended(self, run_id: int, outcome: str) -> None:
        """Note how a run ended: ``graded``, ``failed`` or ``retry``."""
        with self.engine.begin() as db:
            db.execute(update(RUN).where(RUN.c.id == run_id).values(finished=now(), outcome=outcome))

    def finish(self, submission_id: int, graded: Graded) -> bool:
        """Mark a submission this service runs ``done`` with its grades and feedback, in one
        transaction; False when it is not this service's to finish (nothing is written)."""
        moment = now()
        with self.engine.begin() as db:
            done = db.execute(update(SUBMISSION).where(
                SUBMISSION.c.id == submission_id, SUBMISSION.c.state == "running",
                SUBMISSION.c.claimed_by == self.instance).values(
                state="done", finished_at=moment, how=graded.how, job_key=graded.job_key,
                score=graded.score, max_score=graded.max_score, penalty=graded.penalty,
                tests=json.dumps(list(map(dict, graded.tests))), flags=json.dumps(list(graded.flags)),
                notes=json.dumps(list(graded.notes)), run_seconds=graded.run_seconds,
                worker=graded.worker[:256], reason="")).rowcount == 1
            if done and graded.feedback_html is not None:
                db.execute(delete(FEEDBACK).where(FEEDBACK.c.submission_id == submission_id))
                db.execute(insert(FEEDBACK).values(submission_id=submission_id,
                                                   html=gzip.compress(graded.feedback_html, 6)))
        return done

    def fail(self, submission_id: int, reason: str, *, job_key: str | None = None,
             flags: Sequence[str] = (), notes: Sequence[str] = (), run_seconds: float | None = None,
             worker: str = "") -> bool:
        """Mark a submission this service runs ``failed``, with the reason."""
        with self.engine.begin() as db:
            return db.execute(update(SUBMISSION).where(
                SUBMISSION.c.id == submission_id, SUBMISSION.c.state == "running",
                SUBMISSION.c.claimed_by == self.instance).values(
                state="failed", finished_at=now(), reason=reason, job_key=job_key,
                flags=json.dumps(list(flags)), notes=json.dumps(list(notes)),
                run_seconds=run_seconds, worker=worker[:256])).rowcount == 1

    # --- reading ---------------------------------------------------------------------------

    def typical_seconds(self, assignment: str, last: int = 20) -> tuple[float, int] | None:
        """How long grading runs of ``assignment`` took here: (the median of the run times of
        its ``last`` most recently graded submissions, how many), or None before the first."""
        with self.engine.connect() as db:
            found = [row[0] for row in db.execute(
                select(SUBMISSION.c.run_seconds).where(
                    SUBMISSION.c.assignment == assignment, SUBMISSION.c.state == "done",
                    SUBMISSION.c.how == "graded", SUBMISSION.c.run_seconds.is_not(None))
                .order_by(SUBMISSION.c.finished_at.desc()).limit(last))]
        return (statistics.median(found), len(found)) if found else None

    def get(self, submission_id: int):
        """The submission's row (without its files), or None."""
        if not 0 < submission_id <= MAX_ID:
            return None
        columns = [c for c in SUBMISSION.c if c.name != "files"]
        with self.engine.connect() as db:
            return db.execute(select(*columns).where(SUBMISSION.c.id == submission_id)).first()

    def files(self, submission_id: int) -> dict[str, bytes]:
        """The submission's files."""
        with self.engine.connect() as db:
            return unpack(db.execute(select(SUBMISSION.c.files).where(
                SUBMISSION.c.id == submission_id)).scalar_one())

    def of_student(self, student: str, assignment: str | None = None) -> list:
        """A student's submissions (rows without files), newest first."""
        columns = [c for c in SUBMISSION.c if c.name != "files"]
        query = select(*columns).where(SUBMISSION.c.student == student)
        if assignment is not None:
            query = query.where(SUBMISSION.c.assignment == assignment)
        with self.engine.connect() as db:
            return list(db.execute(query.order_by(SUBMISSION.c.id.desc())))

    def of_assignment(self, assignment: str) -> list:
        """Every submission of ``assignment`` (ids and students), oldest first."""
        with self.engine.connect() as db:
            return list(db.execute(select(SUBMISSION.c.id, SUBMISSION.c.student).where(
                SUBMISSION.c.assignment == assignment).order_by(SUBMISSION.c.id)))

    def rows(self, *states: str) -> list:
        """Every submission (rows without files) in one of ``states`` (all when none), oldest
        first."""
        columns = [c for c in SUBMISSION.c if c.name != "files"]
        query = select(*columns).order_by(SUBMISSION.c.id)
        if states:
            query = query.where(SUBMISSION.c.state.in_(states))
        with self.engine.connect() as db:
            return list(db.execute(query))

    def feedback_html(self, submission_id: int) -> bytes | None:
        """The feedback page of a graded submission."""
        with self.engine.connect() as db:
            blob = db.execute(select(FEEDBACK.c.html).where(
                FEEDBACK.c.submission_id == submission_id)).scalar()
        return gzip.decompress(blob) if blob is not None else None

    def runs(self) -> list:
        """Every run, oldest first."""
        with self.engine.connect() as db:
            return list(db.execute(select(RUN).order_by(RUN.c.id)))

    def exchange_seen(self) -> set[str]:
        """The exchange folders already taken or refused."""
        with self.engine.connect() as db:
            return {r.folder for r in db.execute(select(EXCHANGE.c.folder))}

    def exchange_refused(self, folder: str, reason: str) -> None:
        """Remember that an exchange folder was refused, and why."""
        with self.engine.begin() as db:
            db.execute(insert(EXCHANGE).values(folder=folder, seen=now(), refusal=reason))

    def exchange_refusals(self) -> list:
        """The refused exchange folders, newest first."""
        with self.engine.connect() as db:
            return list(db.execute(select(EXCHANGE).where(EXCHANGE.c.refusal.is_not(None))
                                   .order_by(EXCHANGE.c.seen.desc())))


def grade_again(queue: Queue, ledger, submission_ids: Sequence[int], by: str) -> list[int]:
    """Put the failed ones of ``submission_ids`` back in the queue with their tries cleared, at
    the request of ``by`` (logged); return the ids put back. A failure stored in the ``ledger``
    (a :class:`~autograder.batch.ledger.Ledger`) under the submission's job key is forgotten,
    else the next run would answer from it without running."""
    again = queue.grade_again(submission_ids)
    for row in again:
        stored = ledger.result(row.job_key, notebook=False) if row.job_key else None
        if stored is not None and stored.reason:
            ledger.forget(row.job_key)
        log.info("submission %s (%s, %s) back in the queue to be graded again, asked by %s; it "
                 "had failed: %s", row.id, row.student, row.assignment, by, row.reason)
    return [row.id for row in again]
