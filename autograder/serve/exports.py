"""``grades.csv``, ``test_summary.csv`` and ``report.html`` kept current while the service runs.

They are the batch grader's own files (:mod:`autograder.batch.export`,
:mod:`autograder.batch.class_report`), written from the attempt that counts for each student and
assignment (:func:`.policy.counted`). A finished submission asks for a new copy; a thread writes
one at most every ``interval`` seconds, so a burst of results costs one write, not one each.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.batch.class_report import write_class_report
from autograder.batch.export import write_grades_csv, write_test_summary_csv
from autograder.batch.outcome import Outcome
from autograder.batch.results import TestScore
from autograder.serve import policy
from autograder.serve.queue import Queue
from autograder.serve.tables import as_utc

log = logging.getLogger(__name__)


def counted_rows(rows: Sequence, rule: str) -> dict[tuple[str, str], Any]:
    """Per student and assignment, the row (of ``done`` and ``failed`` submissions) that counts:
    :func:`.policy.counted` among the graded ones, else the latest failed one."""
    by_owner: dict[tuple[str, str], list] = {}
    for row in rows:
        if row.state in ("done", "failed"):
            by_owner.setdefault((row.student, row.assignment), []).append(row)
    found = {}
    for owner, group in by_owner.items():
        attempts = [policy.Attempt(r.id, as_utc(r.received), r.score if r.state == "done" else None)
                    for r in group]
        chosen = policy.counted(attempts, rule)
        chosen_id = chosen.id if chosen else max(r.id for r in group)
        found[owner] = next(r for r in group if r.id == chosen_id)
    return found


def outcome(row) -> Outcome:
    """A submission's row as the batch grader's :class:`~autograder.batch.outcome.Outcome`."""
    if row.state == "failed":
        return Outcome.failed(row.student, row.assignment, row.reason, seconds=row.run_seconds,
                              worker=row.worker, job_key=row.job_key or "",
                              review=tuple(json.loads(row.flags or "[]")),
                              notes=tuple(json.loads(row.notes or "[]")))
    tests = tuple(TestScore(t["grade_id"], float(t["score"]), float(t["max_score"]),
                            bool(t.get("manual"))) for t in json.loads(row.tests or "[]"))
    return Outcome.graded(row.student, row.assignment, tests,
                          status="reused" if row.how == "reused" else "graded",
                          seconds=row.run_seconds, worker=row.worker, job_key=row.job_key or "",
                          review=tuple(json.loads(row.flags or "[]")),
                          notes=tuple(json.loads(row.notes or "[]")))


class Exports:
    """Writes the class's files from the queue's results, on request, at most every
    ``interval`` seconds."""

    def __init__(self, queue: Queue, output: Path, *, rule: str, title: str, budget: str,
                 workers: int, interval: float = 10.0) -> None:
        self.queue = queue
        self.output = output
        self.rule = rule
        self.title = title
        self.budget = budget
        self.workers = workers
        self.interval = interval
        self.started = time.monotonic()
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cnnkit-exports", daemon=True)

    @property
    def grades_csv(self) -> Path:
        return self.output / "grades.csv"

    @property
    def report_html(self) -> Path:
        return self.output / "report.html"

    def start(self) -> None:
        self._wanted.set()  # the files as they stand at start
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout=30)

    def request(self) -> None:
        """Ask for a new copy of the files."""
        self._wanted.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                break
            self._wanted.clear()
            try:
                self.write()
            except Exception:  # a full disk must not stop the grading
                log.exception("writing grades.csv and report.html failed")
            self._stop.wait(self.interval)

    def write(self) -> list[Outcome]:
        """Write the files now; return the outcomes they hold."""
        outcomes = [outcome(row) for row in counted_rows(self.queue.rows("done", "failed"),
                                                         self.rule).values()]
        self.output.mkdir(parents=True, exist_ok=True)
        write_grades_csv(outcomes, self.grades_csv)
        write_test_summary_csv(outcomes, self.output / "test_summary.csv")
        write_class_report(outcomes, self.report_html, title=self.title, budget=self.budget,
                           workers=self.workers, wall_seconds=time.monotonic() - self.started)
        return outcomes
