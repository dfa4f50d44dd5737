"""Taking a submission into the queue, from the web or the exchange: the admission rules of
:mod:`.admission`, then :meth:`.queue.Queue.accept`.

Accepting is serialised in the service (one lock), so that the attempt limit holds when one
student's uploads arrive at the same moment.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from autograder.batch.intake import TIMESTAMP_FORMAT
from autograder.serve import admission
from autograder.serve.admission import NotebookCheck, Refusal
from autograder.serve.deadlines import Deadlines
from autograder.serve.policy import HOUR
from autograder.serve.queue import Queue, Receipt, notebook_name
from autograder.serve.tables import now


class Acceptor:
    """Checks submissions of one course and queues the good ones."""

    def __init__(self, *, course_root: Path, queue: Queue, deadlines: Deadlines,
                 attempts_per_hour: int, max_upload: int, on_accept=lambda: None) -> None:
        self.queue = queue
        self.deadlines = deadlines
        self.attempts_per_hour = attempts_per_hour
        self.max_upload = max_upload
        self.notebooks = NotebookCheck(course_root)
        self.on_accept = on_accept
        self._lock = threading.Lock()

    def upload(self, student: str, assignment_id: str | None, filename: str | None,
               data: bytes) -> Receipt:
        """Queue a notebook uploaded by ``student`` (signed in) for ``assignment_id``; raise
        :class:`~.admission.Refusal` when it is not taken."""
        moment = now()
        admission.check_file_name(filename)
        deadline = admission.check_assignment(self.deadlines, assignment_id)
        if len(data) > self.max_upload:
            limit, size = admission.sizes(self.max_upload, len(data))
            raise Refusal(413, f"file: expected at most {limit}, got {size}. Clear the outputs "
                               f"(Kernel > Restart Kernel and Clear All Outputs), save, and upload "
                               f"again.")
        self.notebooks.check(data, deadline.assignment)
        admission.check_deadline(deadline, moment)
        files = {notebook_name(deadline.assignment): data,
                 "timestamp.txt": moment.strftime(TIMESTAMP_FORMAT).encode("utf-8")}
        return self._queue(student, deadline.assignment, source="web",
                           origin=f"upload {filename}", files=files,
                           timestamp=moment.strftime(TIMESTAMP_FORMAT),
                           late=deadline.late_seconds(moment))

    def exchange(self, *, folder: str, student: str, assignment_id: str, submitted: datetime,
                 timestamp: str, files: Mapping[str, bytes], secret: str) -> Receipt:
        """Queue a submission from the exchange's inbound ``folder`` (``nbgrader submit`` wrote
        it at ``submitted``); raise :class:`~.admission.Refusal` when it is not taken."""
        deadline = self.deadlines.get(assignment_id)
        if deadline is None:
            choices = ", ".join(self.deadlines.open()) or "(none open)"
            raise Refusal(404, f"assignment: expected one of {choices}, "
                               f"got {assignment_id!r}. Fetch the assignment again and submit it.")
        name = notebook_name(assignment_id)
        if name not in files:
            raise Refusal(400, f"submission: expected {name}, got {', '.join(sorted(files)) or 'no file'}. "
                               f"Submit the notebook under its released name.")
        total = sum(len(data) for data in files.values())
        if total > self.max_upload:
            limit, size = admission.sizes(self.max_upload, total)
            raise Refusal(413, f"submission: expected at most {limit} in all, got {size}. Clear "
                               f"the outputs, save, and submit again.")
        self.notebooks.check(files[name], assignment_id)
        admission.check_deadline(deadline, submitted)
        return self._queue(student, assignment_id, source="exchange", origin=folder,
                           files={**files, "timestamp.txt": timestamp.encode("utf-8")},
                           timestamp=timestamp, late=deadline.late_seconds(submitted),
                           secret=secret, exchange_folder=folder)

    def _queue(self, student: str, assignment_id: str, *, late: float, **row) -> Receipt:
        with self._lock:
            recent = self.queue.uploads_since(student, assignment_id, now() - HOUR)
            admission.check_attempts(recent, now(), self.attempts_per_hour, assignment_id)
            receipt = self.queue.accept(student=student, assignment=assignment_id, received=now(),
                                        late_seconds=late, **row)
        self.on_accept()
        return receipt
