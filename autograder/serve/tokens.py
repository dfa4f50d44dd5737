"""Personal tokens and sign-in sessions: the database keeps SHA-256 hashes only.

A token reads ``<key id>.<secret>``: the key id (not secret) finds its row, and the secret's
hash is compared with :func:`hmac.compare_digest`, so that the time a check takes tells nothing
about the secret. Tokens are made for the students of a roster (a CSV with a ``student_id``
column, such as the LMS roster of ``cnnkit grade --roster``) and for the instructor; making one
anew for someone replaces theirs, so a leaked link is revoked by issuing a new one.

A sign-in (a personal link, or the token typed into the page) starts a session: the cookie holds
a random session id whose hash is kept with the student, the role, the key id of the token it
was made with, a CSRF token for the forms, and when it ends. A session holds only while that token
does: each request looks the token up with the session, so a new link (``cnnkit tokens
--reissue``, from any process) ends every session of the old one at once.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.engine import Engine

from autograder.batch.intake.lms import student_id_problem
from autograder.errors import BadInput
from autograder.serve.tables import SESSION, TOKEN, as_utc, now

#: Roles a token may carry.
ROLES = ("student", "instructor")

#: What a token looks like: a key id in hex, a dot, a secret in URL-safe base64. Anything else is
#: refused before the database is asked.
_TOKEN = re.compile(r"[0-9a-f]{1,32}\.[A-Za-z0-9_-]{1,160}")


def digest(secret: str) -> str:
    """The SHA-256 (hex) kept in place of ``secret``."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a token or a session belongs to."""

    student: str
    """The nbgrader student id (the instructor's name for the instructor)."""
    role: str
    """``student`` or ``instructor``."""
    key_id: str = field(default="", compare=False)
    """The key id of the token it was told by (its sessions hold while that token does)."""

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


class Tokens:
    """The personal tokens of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, student: str, role: str = "student") -> str:
        """A new token for ``student``, replacing theirs; only its hash is kept."""
        if role not in ROLES:
            raise BadInput(f"role: expected one of {', '.join(ROLES)}, got {role!r}.")
        problem = student_id_problem(student)
        if problem:
            raise BadInput(f"student id: expected one usable as an nbgrader student id, got "
                           f"{problem}. Fix it in the roster.")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        with self.engine.begin() as db:
            db.execute(delete(TOKEN).where(TOKEN.c.student == student, TOKEN.c.role == role))
            # The old token's sessions end with it (Sessions.find checks the token too).
            db.execute(delete(SESSION).where(SESSION.c.student == student, SESSION.c.role == role))
            db.execute(insert(TOKEN).values(key_id=key_id, secret_hash=digest(secret),
                                            student=student, role=role, created=now()))
        return f"{key_id}.{secret}"

    def holders(self, role: str = "student") -> set[str]:
        """Who holds a token of ``role``."""
        with self.engine.connect() as db:
            return {r.student for r in db.execute(select(TOKEN.c.student).where(TOKEN.c.role == role))}

    def verify(self, token: str | None) -> Principal | None:
        """Whose ``token`` is, or None for a token that is not valid."""
        token = (token or "").strip()
        if not _TOKEN.fullmatch(token):
            return None
        key_id, _, secret = token.partition(".")
        with self.engine.connect() as db:
            row = db.execute(select(TOKEN).where(TOKEN.c.key_id == key_id)).first()
        # Hash and compare even when there is no such key, so both cases take the same time.
        expected = row.secret_hash if row is not None else digest("")
        if not hmac.compare_digest(expected, digest(secret)) or row is None:
            return None
        return Principal(row.student, row.role, row.key_id)


def roster_students(path: Path) -> list[str]:
    """The student ids of a roster CSV (its ``student_id`` column), in its order, each once."""
    if not path.is_file():
        raise BadInput(f"roster {path}: expected a CSV file with a student_id column, got no such "
                       f"file. Check the path.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [(c or "").strip() for c in reader.fieldnames or []]
        if "student_id" not in columns:
            raise BadInput(f"roster {path}: expected a student_id column in its first line, got "
                           f"{','.join(columns) or 'an empty file'}. Add a header line with "
                           f"student_id.")
        students: dict[str, None] = {}
        for line, row in enumerate(reader, start=2):
            student = next(((v or "").strip() for k, v in row.items()
                            if (k or "").strip() == "student_id"), "")
            if not student:
                continue
            problem = student_id_problem(student)
            if problem:
                raise BadInput(f"roster {path}, line {line}: expected a student_id usable as an "
                               f"nbgrader student id, got {problem}. Fix that row.")
            students[student] = None
    if not students:
        raise BadInput(f"roster {path}: expected at least one student_id, got none. Fill in the "
                       f"roster.")
    return list(students)


@dataclass(frozen=True)
class Session:
    """A signed-in browser."""

    principal: Principal
    csrf: str
    """The token its forms must send back."""


class Sessions:
    """Sign-in sessions of one database."""

    #: The cookie that carries the session id.
    COOKIE = "cnnkit_session"

    def __init__(self, engine: Engine, hours: float) -> None:
        self.engine = engine
        self.lifetime = timedelta(hours=hours)

    def start(self, principal: Principal) -> tuple[str, Session]:
        """A new session for ``principal``: the cookie's value and the session."""
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        moment = now()
        with self.engine.begin() as db:
            db.execute(delete(SESSION).where(SESSION.c.expires < moment))
            db.execute(insert(SESSION).values(id_hash=digest(session_id), student=principal.student,
                                              role=principal.role, token_key=principal.key_id,
                                              csrf=csrf, expires=moment + self.lifetime))
        return session_id, Session(principal, csrf)

    def find(self, session_id: str | None) -> Session | None:
        """The session of a cookie's value, unless it ended, or the token it was made with was
        replaced."""
        if not session_id or len(session_id) > 200:
            return None
        with self.engine.connect() as db:
            row = db.execute(select(SESSION).join(TOKEN, and_(
                TOKEN.c.key_id == SESSION.c.token_key, TOKEN.c.student == SESSION.c.student,
                TOKEN.c.role == SESSION.c.role)).where(
                SESSION.c.id_hash == digest(session_id))).first()
        if row is None or as_utc(row.expires) < now():
            return None
        return Session(Principal(row.student, row.role, row.token_key), row.csrf)

    def end(self, session_id: str | None) -> None:
        """End the session of a cookie's value."""
        if session_id:
            with self.engine.begin() as db:
                db.execute(delete(SESSION).where(SESSION.c.id_hash == digest(session_id)))


def same(given: str | None, expected: str) -> bool:
    """Whether ``given`` equals ``expected``, in constant time (CSRF tokens)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
