"""The service's tables, kept in the course's database beside nbgrader's and the ledger's.

- ``cnnkit_serve_submission``: every accepted submission, its files and where it stands
  (:data:`STATES`), and, once graded, its scores, messages and review flags.
- ``cnnkit_serve_feedback``: the feedback page nbgrader made for a graded submission.
- ``cnnkit_serve_run``: each time a worker started a submission's notebook, and how it ended
  (the record that shows nothing was graded twice).
- ``cnnkit_serve_exchange``: each folder of the exchange's inbound seen, and what became of it.
- ``cnnkit_serve_token``, ``cnnkit_serve_session``: personal tokens (hashes only) and sign-ins.
- ``cnnkit_serve_instance``: the running service, with a heartbeat, so that a new one knows
  whether the last one died.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
)
from sqlalchemy.engine import Engine

from autograder.extras import database_driver

METADATA = MetaData()

#: Where a submission stands. ``waiting``: accepted, in the queue. ``running``: claimed by a
#: service, on a worker or being recorded. ``done``: graded, feedback released. ``failed``: could
#: not be graded (the reason says why). ``replaced``: a newer submission of the same student and
#: assignment came while this one was still waiting; never graded.
STATES = ("waiting", "running", "done", "failed", "replaced")

#: States a submission does not leave.
FINAL = ("done", "failed", "replaced")

SUBMISSION = Table(
    "cnnkit_serve_submission", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("source", String(16), nullable=False),            # "web" or "exchange"
    Column("origin", String(512), nullable=False),           # file name, or the exchange folder
    Column("received", DateTime(timezone=True), nullable=False),
    Column("timestamp", String(64), nullable=False),         # nbgrader's timestamp.txt
    Column("sha256", String(64), nullable=False),            # of the notebook
    Column("size", Integer, nullable=False),
    Column("files", LargeBinary, nullable=False),            # gzip of the submission's files
    Column("secret", String(256), nullable=True),            # the exchange's submission secret
    Column("late_seconds", Float, nullable=False, default=0.0),
    Column("state", String(16), nullable=False),
    Column("replaced_by", Integer, nullable=True),
    Column("claims", Integer, nullable=False, default=0),     # tries charged (see RUN)
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("job_key", String(64), nullable=True),
    Column("how", String(16), nullable=True),                # "graded" (ran) or "reused"
    Column("score", Float, nullable=True),                   # after the late penalty
    Column("max_score", Float, nullable=True),
    Column("penalty", Float, nullable=True),
    Column("tests", Text, nullable=True),                    # JSON: grade id, score, max, message
    Column("reason", Text, nullable=False, default=""),
    Column("flags", Text, nullable=False, default="[]"),
    Column("notes", Text, nullable=False, default="[]"),
    Column("run_seconds", Float, nullable=True),
    Column("worker", String(256), nullable=False, default=""),
)
Index("cnnkit_serve_submission_state", SUBMISSION.c.state)
Index("cnnkit_serve_submission_owner", SUBMISSION.c.student, SUBMISSION.c.assignment)

FEEDBACK = Table(
    "cnnkit_serve_feedback", METADATA,
    Column("submission_id", Integer, ForeignKey("cnnkit_serve_submission.id"), primary_key=True),
    Column("html", LargeBinary, nullable=False),             # gzip
)

RUN = Table(
    "cnnkit_serve_run", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, nullable=False, index=True),
    Column("instance", String(64), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    # "graded" (a notebook came back), "failed" (none did, for a reason of the submission),
    # "retry" (killed from outside), "stopped" (the service stopped and put it back), "lost" (the
    # service died while it ran). Only "failed" and "retry" are tries charged to the submission.
    Column("outcome", String(16), nullable=True),
)

EXCHANGE = Table(
    "cnnkit_serve_exchange", METADATA,
    Column("folder", String(512), primary_key=True),
    Column("seen", DateTime(timezone=True), nullable=False),
    Column("submission_id", Integer, nullable=True),
    Column("refusal", Text, nullable=True),
)

TOKEN = Table(
    "cnnkit_serve_token", METADATA,
    Column("key_id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),       # SHA-256 of the secret part
    Column("student", String(128), nullable=False),
    Column("role", String(16), nullable=False),              # "student" or "instructor"
    Column("created", DateTime(timezone=True), nullable=False),
)

SESSION = Table(
    "cnnkit_serve_session", METADATA,
    Column("id_hash", String(64), primary_key=True),         # SHA-256 of the cookie's value
    Column("student", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_key", String(32), nullable=True),          # the key id of its token
    Column("csrf", String(64), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)

INSTANCE = Table(
    "cnnkit_serve_instance", METADATA,
    Column("id", String(64), primary_key=True),
    Column("host", String(256), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("heartbeat", DateTime(timezone=True), nullable=False),
    Column("stopped", Boolean, nullable=False, default=False),
)


def connect(db_url: str) -> Engine:
    """An engine on ``db_url`` with the service's tables created.

    SQLite gets write-ahead logging, so that pages read while a submission is recorded, and a
    30 s wait for the write lock instead of an immediate "database is locked".
    """
    database_driver(db_url, what="the service's database")
    sqlite = db_url.startswith("sqlite")
    engine = create_engine(db_url, future=True,
                           connect_args={"timeout": 30} if sqlite else {})
    if sqlite:
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:  # pragma: no cover - trivial
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    METADATA.create_all(engine)
    _add_new_columns(engine)
    return engine


def _add_new_columns(engine: Engine) -> None:
    """Add the columns a newer kit declares to tables an older one made (``create_all`` makes
    missing tables only). Each such column is nullable: old rows read None (an old session,
    without its token's key, is ended)."""
    found = inspect(engine)
    for table in METADATA.sorted_tables:
        present = {column["name"] for column in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:  # pragma: no cover - a mistake in this module
                raise RuntimeError(f"{table.name}.{column.name}: expected a new column to be "
                                   f"nullable, got NOT NULL. Declare it nullable.")
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as db:
                db.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')


def now() -> datetime:
    """The current time in UTC, as the tables store it."""
    return datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...


@overload
def as_utc(moment: None) -> None: ...


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time: SQLite hands back the naive UTC time it was given."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
