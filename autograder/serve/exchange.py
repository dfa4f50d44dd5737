"""The watcher of the nbgrader exchange: what students send with ``nbgrader submit`` is queued
within seconds, with no ``nbgrader collect``.

``nbgrader submit`` writes ``<exchange>/<course id>/inbound/<student>+<assignment>+<timestamp>+
<random>/`` with the notebooks, then ``timestamp.txt``, then ``submission_secret.txt`` (nbgrader
0.9.6, ``exchange/default/submit.py``). A folder is taken once its secret is there in full: the
submission's files, its time and its secret go into the queue with the folder's name, in one
transaction, so a folder is never taken twice, across restarts too. A folder that is refused
(after the cut-off, not a notebook of the assignment, past the attempt limit) is remembered with
the reason, and the reason is released as that submission's feedback, so the student's
``nbgrader fetch_feedback`` says why.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from nbgrader.utils import parse_utc

from autograder.authoring import course as courses
from autograder.batch.intake.lms import student_id_problem
from autograder.serve.accept import Acceptor
from autograder.serve.admission import Refusal
from autograder.serve.feedback import SECRET_FILE, FeedbackError, Publisher
from autograder.serve.queue import Queue
from autograder.serve.tables import as_utc, now

log = logging.getLogger(__name__)

#: nbgrader's secret: 64 random bytes in hex.
_SECRET = re.compile(r"[0-9a-f]{128}")

#: Seconds a folder may stay incomplete (no secret yet) before it is refused.
INCOMPLETE_SECONDS = 300.0

#: The most files taken from one submission folder.
MAX_FILES = 50


@dataclass(frozen=True)
class Inbound:
    """One folder of the inbound exchange, by its name."""

    name: str
    student: str
    assignment: str
    timestamp: str


def parse_name(name: str) -> Inbound | None:
    """The parts of an inbound folder's name, split as ``nbgrader collect`` splits them (a
    student id may hold ``+``); None for a name that is not a submission's.

    >>> parse_name("ann+images+2025-01-01 09:00:00.000000 UTC+Ab3_")  # doctest: +NORMALIZE_WHITESPACE
    Inbound(name='ann+images+2025-01-01 09:00:00.000000 UTC+Ab3_', student='ann', assignment='images',
            timestamp='2025-01-01 09:00:00.000000 UTC')
    """
    parts = name.rsplit("+", 3)
    if len(parts) == 4:
        student, assignment, stamp, _ = parts
    elif len(parts) == 3:
        student, assignment, stamp = parts
    else:
        return None
    return Inbound(name, student, assignment, stamp)


class Watcher:
    """Polls one inbound folder and queues what arrives."""

    def __init__(self, inbound: Path, queue: Queue, acceptor: Acceptor, publisher: Publisher,
                 poll_seconds: float) -> None:
        self.inbound = inbound
        self.queue = queue
        self.acceptor = acceptor
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cnnkit-exchange", daemon=True)

    def start(self) -> None:
        self._seen = self.queue.exchange_seen()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan()
            except Exception:  # the exchange or the database is away for a moment
                log.exception("reading the exchange failed")
            self._stop.wait(self.poll_seconds)

    def scan(self) -> int:
        """Take every complete new folder; return how many were taken or refused."""
        if not self.inbound.is_dir():
            return 0
        handled = 0
        for entry in sorted(self.inbound.iterdir(), key=lambda p: p.name):
            if entry.name in self._seen or not entry.is_dir():
                continue
            if self._take(entry):
                self._seen.add(entry.name)
                handled += 1
        return handled

    def _take(self, folder: Path) -> bool:
        """Queue or refuse one folder; False when it is not complete yet."""
        found = parse_name(folder.name)
        secret_file = folder / SECRET_FILE
        secret = secret_file.read_text(encoding="ascii", errors="replace").strip() \
            if secret_file.is_file() else ""
        if found is None or student_id_problem(found.student):
            self._refuse(folder.name, None, "the folder's name is not <student>+<assignment>+<time>; "
                                             "it was not written by nbgrader submit.", secret)
            return True
        if not _SECRET.fullmatch(secret) or not (folder / "timestamp.txt").is_file():
            age = now().timestamp() - folder.stat().st_mtime
            if age < INCOMPLETE_SECONDS:
                return False  # nbgrader submit is still writing it
            self._refuse(folder.name, found, f"the submission stayed incomplete (no {SECRET_FILE} "
                                             f"after {INCOMPLETE_SECONDS:g} s). Submit again.", secret)
            return True
        timestamp = (folder / "timestamp.txt").read_text(encoding="utf-8", errors="replace").strip()
        try:
            submitted = as_utc(parse_utc(timestamp or found.timestamp))
        except (ValueError, OverflowError):
            self._refuse(folder.name, found, f"its time {timestamp!r} cannot be read. Submit again.",
                         secret)
            return True
        paths = [path for path in sorted(folder.rglob("*"))
                 if path.is_file() and not path.is_symlink()
                 and path.relative_to(folder).as_posix() not in (SECRET_FILE, "timestamp.txt")
                 and ".ipynb_checkpoints" not in path.parts][:MAX_FILES]
        # Sized before anything is read: a student's folder may hold a data set.
        if sum(path.stat().st_size for path in paths) > self.acceptor.max_upload:
            self._refuse(folder.name, found, f"submission: expected at most "
                                             f"{self.acceptor.max_upload // 1024} KB in all, got "
                                             f"more. Keep only the notebook in the assignment's "
                                             f"folder (move data files elsewhere) and submit again.",
                         secret, timestamp)
            return True
        files = {path.relative_to(folder).as_posix(): path.read_bytes() for path in paths}
        try:
            receipt = self.acceptor.exchange(folder=folder.name, student=found.student,
                                             assignment_id=found.assignment, submitted=submitted,
                                             timestamp=timestamp, files=files, secret=secret)
        except Refusal as refusal:
            self._refuse(folder.name, found, refusal.message, secret, timestamp)
            return True
        log.info("exchange: queued %s as submission %s", folder.name, receipt.id)
        return True

    def _refuse(self, name: str, found: Inbound | None, reason: str, secret: str,
                timestamp: str | None = None) -> None:
        log.info("exchange: refused %s: %s", name, reason)
        self.queue.exchange_refused(name, reason)
        if found is None or found.assignment not in courses.current().ids or not _SECRET.fullmatch(secret):
            return
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Not graded</title></head>"
                f"<body><h1>{html.escape(found.assignment)}: not graded</h1>"
                f"<p>Your submission of {html.escape(timestamp or found.timestamp)} was not graded: "
                f"{html.escape(reason)}</p></body></html>")
        try:
            self.publisher.release_notice(found.student, found.assignment,
                                          timestamp or found.timestamp, secret, page)
        except FeedbackError as exc:
            log.error("exchange: the notice for %s could not be released: %s", name, exc)
