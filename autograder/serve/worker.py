"""The worker loop: claim the next submission, run it as the batch grader's job, record it.

Two threads share the work, so that the gradebook keeps one writer:

- the **dispatcher** claims submissions by the fair policy (:func:`.policy.next_to_run`) while
  a worker is free, turns each into a :class:`~autograder.batch.jobs.Job` with
  :func:`autograder.batch.grade.prepare_jobs`, and starts it on the batch grader's executors
  (:mod:`autograder.batch.executors`: local worker processes or Dask workers); a job whose key
  the ledger already holds (an identical notebook) runs nothing;
- the **recorder** takes each finished job, keeps its result in the ledger and records it by the
  batch grader's rules (:func:`autograder.batch.ledger.record_run`), makes and releases its
  feedback (:class:`.feedback.Publisher`), and finishes the submission.

A job killed from outside, or whose worker failed, goes back to waiting (three tries at most).
A job stopped because the service stops goes back too, and costs no try; a service that dies
leaves its claims ``running``, and the next start puts them back, uncharged as well
(:meth:`.queue.Queue.carry_on`). Since a finished run is in the ledger before its submission is
finished, what had run is recorded without running again.

A notebook that is the same work as another student's submission of the same assignment, byte for
byte or nearly (and not the released notebook itself), is flagged for the instructor
(:mod:`autograder.batch.review.similar`); the student is told nothing of it.
"""

from __future__ import annotations

import logging
import queue as queues
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.batch import executors
from autograder.batch.executors import Executor
from autograder.batch.export import format_number
from autograder.batch.grade import Settings as GradeSettings
from autograder.batch.grade import prepare_jobs
from autograder.batch.jobs import Job, RunResult
from autograder.batch.ledger import Ledger, Settled, record_run
from autograder.batch.outcome import Submission
from autograder.batch.results import SubmissionScore
from autograder.batch.review import similar
from autograder.serve import policy
from autograder.serve.deadlines import late_penalty
from autograder.serve.feedback import FeedbackError, Publisher, tests_with_messages
from autograder.serve.queue import Claimed, Graded, Queue, notebook_name
from autograder.serve.tables import as_utc, now

log = logging.getLogger(__name__)


def sentence(text: str) -> str:
    """``text`` ending with one full stop.

    >>> sentence("killed by signal 9."), sentence("killed by signal 9")
    ('killed by signal 9.', 'killed by signal 9.')
    """
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."

#: Seconds a stopping service waits for its killed jobs to come back before it stops anyway.
STOP_WAIT = 20.0

#: Claims of one submission before a failure of the worker (not of the submission) fails it.
MAX_CLAIMS = 3


@dataclass
class _Finished:
    """A job back from its worker (or from the ledger), for the recorder."""

    claimed: Claimed
    job: Job | None
    run: RunResult | BaseException | None
    how: str
    run_id: int | None = None
    error: str = ""


class Worker:
    """The dispatcher and the recorder of one service."""

    def __init__(self, *, course_root: Path, db_url: str, queue: Queue, ledger: Ledger,
                 publisher: Publisher, executor: Executor, grade_settings: GradeSettings, capacity,
                 counts: str, assignments: Callable[[], list[str]] = list,
                 on_finished: Callable[[], None] = lambda: None) -> None:
        self.course_root = course_root
        self.db_url = db_url
        self.queue = queue
        self.ledger = ledger
        self.publisher = publisher
        self.executor = executor
        self.grade_settings = grade_settings
        self.capacity = capacity
        self.counts = counts
        self.on_finished = on_finished
        self.assignments = assignments
        self.wake = threading.Event()
        self.ready = threading.Event()
        """Set once the first preparation is done and submissions start."""
        self._stopping = threading.Event()
        self._finished: queues.Queue[_Finished] = queues.Queue()
        self._in_flight = 0
        self._stopped_at = float("inf")
        self._lock = threading.Lock()
        self._given_to: dict[str, tuple[frozenset[int], str | None]] = {}
        self._prints: dict[int, similar.Fingerprint] = {}
        """The fingerprint of each submission seen, by id (a submission's files never change)."""
        self._staging = Path(tempfile.mkdtemp(prefix="cnnkit-serve-staging-"))
        self._threads = [threading.Thread(target=self._dispatch_loop, name="cnnkit-dispatch", daemon=True),
                         threading.Thread(target=self._record_loop, name="cnnkit-record", daemon=True)]

    # --- life ------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop claiming, stop the running jobs, record what had finished, and put the rest back
        in the queue."""
        self._stopped_at = time.monotonic()
        self._stopping.set()
        self.wake.set()
        self.executor.stop()
        for thread in self._threads:
            thread.join(timeout=60)
        self.executor.close()
        back = self.queue.carry_on([self.queue.instance], outcome="stopped")
        if back:
            log.info("stopping: submission(s) %s back in the queue, no try charged", back)
        shutil.rmtree(self._staging, ignore_errors=True)

    @property
    def in_flight(self) -> int:
        """Jobs on workers now."""
        with self._lock:
            return self._in_flight

    # --- the dispatcher --------------------------------------------------------------------

    def warm_up(self, assignments) -> None:
        """Prepare one job per assignment from its source notebook and drop it: the first
        preparation in a process makes the empty gradebook template (an ``alembic`` run, seconds),
        which the first student would otherwise wait for."""
        for assignment_id in assignments:
            source = self.course_root / "source" / assignment_id / notebook_name(assignment_id)
            if not source.is_file():
                continue
            folder = Path(tempfile.mkdtemp(prefix="cnnkit-serve-warm-", dir=self._staging))
            try:
                shutil.copy(source, folder / source.name)
                prepare_jobs(self.course_root, [Submission("cnnkit-warm-up", assignment_id,
                                                           folder / source.name, "warm-up")],
                             self.grade_settings, self.capacity)
            except Exception:  # the first real submission will say what is wrong
                log.exception("warming up for %s failed", assignment_id)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def _dispatch_loop(self) -> None:
        if self.executor.slots():
            self.warm_up(self.assignments())
        self.ready.set()
        while not self._stopping.is_set():
            self.wake.clear()
            try:
                started = self._dispatch_one()
            except Exception:  # a lost database connection: try again shortly
                log.exception("dispatching failed")
                started = False
            if not started:
                self.wake.wait(timeout=1.0)

    def _dispatch_one(self) -> bool:
        """Start one submission if a worker is free and one waits; whether it did."""
        if self.in_flight >= self.executor.slots():
            return False
        chosen = self.queue.next_to_run()
        if chosen is None:
            return False
        claimed = self.queue.claim(chosen.id)
        if claimed is None:
            return True  # replaced or taken meanwhile: look again at once
        try:
            job = self._prepare(claimed)
        except Exception as exc:  # the assignment cannot be graded here (its definition, MNIST)
            log.exception("preparing submission %s failed", claimed.id)
            self._finished.put(_Finished(claimed, None, None, "failed",
                                         error=f"could not be prepared for grading: {exc}"))
            return True
        stored = self.ledger.result(job.key)
        if stored is not None:
            self._finished.put(_Finished(claimed, job, stored, "reused"))
            return True
        run_id = self.queue.run_started(claimed.id)
        with self._lock:
            self._in_flight += 1

        def done(job: Job, result: RunResult | BaseException, claimed=claimed, run_id=run_id) -> None:
            with self._lock:
                self._in_flight -= 1
            self._finished.put(_Finished(claimed, job, result, "graded", run_id))
            self.wake.set()

        try:
            executors.start(self.executor, job, done)
        except Exception as exc:  # no worker could take it (a gpu job and no GPU worker)
            done(job, exc)
        return True

    def _prepare(self, claimed: Claimed) -> Job:
        """The submission as the batch grader's job (its files staged in a private folder)."""
        folder = self._staging / str(claimed.id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in claimed.files.items():
            (folder / name).write_bytes(data)
        try:
            submission = Submission(claimed.student, claimed.assignment,
                                    folder / notebook_name(claimed.assignment),
                                    f"submission {claimed.id}")
            [job] = prepare_jobs(self.course_root, [submission], self.grade_settings, self.capacity)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return job

    # --- the recorder ----------------------------------------------------------------------

    def _record_loop(self) -> None:
        while not (self._stopping.is_set() and self._finished.empty()
                   and (self.in_flight == 0 or time.monotonic() > self._stopped_at + STOP_WAIT)):
            try:
                item = self._finished.get(timeout=0.5)
            except queues.Empty:
                continue
            try:
                self._record(item)
            except Exception as exc:  # the gradebook or the queue failed: not the submission
                log.exception("recording submission %s failed", item.claimed.id)
                self._retry(item.claimed, f"could not be recorded: {type(exc).__name__}: {exc}")
            self.wake.set()
            self.on_finished()

    def _retry(self, claimed: Claimed, reason: str) -> None:
        """Back to the queue, unless it was tried :data:`MAX_CLAIMS` times already; while the
        service stops, back to the queue with no try charged."""
        if self._stopping.is_set():
            self.queue.release(claimed.id, charged=False)
        elif claimed.claims >= MAX_CLAIMS:
            self.queue.fail(claimed.id, f"{sentence(reason)} It was tried {claimed.claims} times; "
                                        f"ask your instructor.")
        else:
            self.queue.release(claimed.id)

    def _record(self, item: _Finished) -> None:
        claimed, job, run = item.claimed, item.job, item.run
        if job is None or run is None:
            self.queue.fail(claimed.id, item.error)
            return
        # A run that came back with something to record (not a worker's exception, not stopped).
        ran = run if isinstance(run, RunResult) and not run.retry else None
        flags = [] if ran is None else [*ran.flags, *self._copies(claimed)]
        start = time.monotonic()
        settled = record_run(
            self.ledger, run, student=claimed.student, assignment=claimed.assignment,
            record_key=job.record_key, status=item.how, keep=item.how == "graded",
            write=lambda notebook, _: self.publisher.record(
                claimed.student, claimed.assignment, claimed.files, notebook, flagged=bool(flags)))
        recorded = time.monotonic()
        if item.run_id is not None:
            if ran is None:
                ended = "stopped" if self._stopping.is_set() else "retry"
            else:
                ended = "graded" if ran.notebook is not None else "failed"
            self.queue.run_ended(item.run_id, ended)
        if ran is None or settled.status == "retry":
            self._retry(claimed, self._why(claimed, settled))
        elif settled.score is None or ran.notebook is None:
            self._failed(claimed, job, ran, flags)
        else:
            self._graded(item, job, ran, ran.notebook, settled.score, flags, recorded - start)

    @staticmethod
    def _why(claimed: Claimed, settled: Settled) -> str:
        """Why a submission goes back to the queue (logged when it was the recording's fault)."""
        error = settled.error
        if error is None:
            return settled.reason
        if settled.run is None:
            return f"the worker failed ({type(error).__name__}: {error})"
        log.error("recording submission %s failed", claimed.id, exc_info=error)
        return f"could not be recorded: {type(error).__name__}: {error}"

    def _failed(self, claimed: Claimed, job: Job, run: RunResult, flags: list[str]) -> None:
        """Finish a submission whose run failed (a problem of the submission)."""
        self.queue.fail(claimed.id, run.reason, job_key=job.key, flags=flags,
                        notes=run.notes, run_seconds=run.seconds, worker=run.worker)
        log.info("submission %s failed: %s, %s, ran %.1f s: %s", claimed.id, claimed.student,
                 claimed.assignment, run.seconds, run.reason)

    def _graded(self, item: _Finished, job: Job, run: RunResult, notebook: bytes,
                score: SubmissionScore, flags: list[str], recording_seconds: float) -> None:
        """Finish a recorded submission: its late penalty, its feedback, its row, one log line."""
        claimed = item.claimed
        recorded = time.monotonic()
        _, penalty = late_penalty(self.db_url, claimed.student, claimed.assignment)
        notes = list(run.notes)
        try:
            html = self.publisher.feedback(claimed.student, claimed.assignment, claimed.secret)
        except FeedbackError as exc:
            log.error("feedback of submission %s: %s", claimed.id, exc)
            html = None
            notes.append(f"the feedback page could not be made: {exc}")
        graded = Graded(item.how, job.key, score.score - penalty, score.max_score, penalty,
                        tests_with_messages(score, notebook), flags, notes, run.seconds,
                        run.worker, html)
        self._restore_counted(claimed, score.score - penalty)
        self.queue.finish(claimed.id, graded)
        log.info("submission %s %s: %s, %s, %s / %s points, ran %.1f s, %.1f s from upload to "
                 "feedback (recorded in %.1f s, feedback in %.1f s)%s", claimed.id, item.how,
                 claimed.student, claimed.assignment, format_number(graded.score),
                 format_number(graded.max_score), run.seconds,
                 (now() - claimed.received).total_seconds(), recording_seconds,
                 time.monotonic() - recorded, f"; flagged: {'; '.join(flags)}" if flags else "")

    def _copies(self, claimed: Claimed) -> list[str]:
        """The review flag of a notebook that is the same work as other students' submissions
        of the same assignment, byte for byte or nearly (see
        :mod:`autograder.batch.review.similar`); none for the released notebook itself, which
        anyone may send."""
        name = notebook_name(claimed.assignment)
        given, released = self._given(claimed.assignment)
        owner = {row.id: row.student for row in self.queue.of_assignment(claimed.assignment)}
        owner[claimed.id] = claimed.student
        prints = {}
        for submission_id in owner:
            if submission_id not in self._prints:
                files = (claimed.files if submission_id == claimed.id
                         else self.queue.files(submission_id))
                self._prints[submission_id] = similar.fingerprint(files.get(name, b""), given)
            prints[submission_id] = self._prints[submission_id]
        found = similar.matches(prints, owner, released, only=claimed.id)[claimed.id]
        note = similar.flag(found, {k: f"#{k} ({student})" for k, student in owner.items()})
        return [note] if note else []

    def _given(self, assignment: str) -> tuple[frozenset[int], str | None]:
        """What every student of ``assignment`` is given (see :func:`similar.course_given`)."""
        if assignment not in self._given_to:
            self._given_to[assignment] = similar.course_given(
                self.course_root, assignment, notebook_name(assignment))
        return self._given_to[assignment]

    def _restore_counted(self, claimed: Claimed, score: float) -> None:
        """With ``--counts best``, record again the attempt that counts when it is not this one
        (this one was recorded for its own feedback)."""
        if self.counts != "best":
            return
        rows = [r for r in self.queue.of_student(claimed.student, claimed.assignment)
                if r.state == "done" and r.id != claimed.id]
        attempts = [policy.Attempt(r.id, as_utc(r.received), r.score) for r in rows]
        attempts.append(policy.Attempt(claimed.id, claimed.received, score))
        best = policy.counted(attempts, "best")
        if best is None or best.id == claimed.id:
            return
        row = next(r for r in rows if r.id == best.id)
        stored = self.ledger.result(row.job_key)
        if stored is None or stored.notebook is None:
            log.warning("submission %s counts, but its result is no longer stored", best.id)
            return
        self.publisher.record(claimed.student, claimed.assignment, self.queue.files(best.id),
                              stored.notebook, flagged=bool(stored.flags))
