"""Grade a class: from placed submissions to the gradebook, feedback, the LMS CSV and the report.

:func:`grade_class` is the batch grader's coordinator. Its steps, in this order:

1. :func:`prepare_jobs` turns each submission into a :class:`~autograder.batch.jobs.Job` (the
   assignment's definition from the gradebook, the course's configuration, the limits); a batch
   that trains checks MNIST first, so that a missing file stops it before anything runs.
2. What the ledger says is done is skipped or reused (:meth:`_Batch.sort_out`).
3. The rest runs on an executor (local processes or Dask, :mod:`.executors`), and every finished
   job is recorded in the gradebook itself, one at a time, as it arrives (:meth:`_Batch.run`, by
   the ledger's rules in :func:`~autograder.batch.ledger.record_run`). A job that cannot be
   recorded fails alone; the batch goes on.
4. Feedback, ``grades.csv``, ``test_summary.csv``, ``report.html`` and the summary
   (:func:`_finish`).

Interrupting it loses nothing recorded (it stops between two recordings); running it again picks
up the rest.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import Any, NamedTuple, Self

from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SAWarning
from traitlets.config import Config

from autograder import data
from autograder.authoring import course, course_checks
from autograder.authoring.nbgrader_run import NbgraderError, put_tools_on_path, run_nbgrader
from autograder.batch import assignment_db, display, executors, results, sandbox
from autograder.batch.capacity import Capacity, plan
from autograder.batch.executors import Executor, executor_for
from autograder.batch.jobs import Job, RunResult, submission_files
from autograder.batch.ledger import Ledger, record_run
from autograder.batch.limits import configured
from autograder.batch.outcome import Outcome, Submission
from autograder.batch.record import Recorder, course_config
from autograder.batch.results import read_submission
from autograder.batch.review import similar
from autograder.batch.sanitize import for_terminal
from autograder.batch.settings import Settings
from autograder.budget import MODELS

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did."""

    outcomes: list[Outcome] = field(default_factory=list)
    """One per submission, in intake order."""
    wall_seconds: float = 0.0
    """Wall time of the whole batch."""
    interrupted: bool = False
    """True when it was stopped before the end (what was recorded stays)."""
    csv: Path | None = None
    """The per-test CSV."""
    report: Path | None = None
    """The class report page."""
    where: str = ""
    """Where the jobs ran."""


def default_db_url(course_root: Path, config: Config | None = None) -> str:
    """The course's gradebook: ``CourseDirectory.db_url`` of its config, else nbgrader's default."""
    config = config if config is not None else course_config(course_root)
    configured_url = config.get("CourseDirectory", {}).get("db_url")
    return str(configured_url) if configured_url else results.db_url(course_root)


def redact_url(db_url: str) -> str:
    """``db_url`` as it may be printed: its password, if any, shown as ``***``.

    >>> redact_url("postgresql+psycopg://grader:s3cret@db.example:5432/gb")
    'postgresql+psycopg://grader:***@db.example:5432/gb'
    """
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a database URL that SQLAlchemy cannot read)"


class Template(NamedTuple):
    """What every job of one assignment carries about it."""

    gradebook: bytes
    """A SQLite gradebook holding only the assignment's definition."""
    digest: str
    """SHA-256 of the definition (part of the job key)."""
    locked: dict[str, str]
    """Locked cells by grade id: their source."""
    layout: tuple[dict, ...]
    """The nbgrader cells in notebook order."""


def _templates(course_root: Path, assignments: Sequence[str], db_url: str) -> dict[str, Template]:
    """Per assignment: what its jobs carry (see :class:`Template`)."""
    found = {}
    with tempfile.TemporaryDirectory(prefix="cnnkit-templates-") as tmp:
        for assignment_id in assignments:
            assignment_db.ensure_assignment(course_root, assignment_id, db_url)
            spec = assignment_db.definition(db_url, assignment_id)
            path = assignment_db.write_template(spec, Path(tmp) / f"{assignment_id}.db")
            locked = {name: source for nb in spec["notebooks"]
                      for name, _, is_locked, source, _ in nb["source_cells"] if is_locked}
            found[assignment_id] = Template(path.read_bytes(), assignment_db.tests_digest(spec),
                                            locked, assignment_db.layout(spec))
    return found


def prepare_jobs(course_root: Path, submissions: Sequence[Submission], settings: Settings,
                 capacity: Capacity | None = None) -> list[Job]:
    """One :class:`~autograder.batch.jobs.Job` per submission, in the same order, ready for an
    executor.

    Each job carries the submission folder's files, its assignment's definition as the gradebook
    at ``settings.db_url`` (else the course's) holds it (defined there from ``source/`` first when
    it is missing), the course's ``nbgrader_config.py``, the budget, the limits
    (``settings.limits``, else the kit's with ``$CNNKIT_LIMITS``) and the TensorFlow threads of
    ``capacity`` (None: planned here for ``settings``). Nothing is run or recorded.

    Raises :class:`~autograder.data.DataError` when an assignment trains and MNIST is missing or
    damaged, and :class:`~autograder.batch.assignment_db.AssignmentMissing` when an assignment is
    neither in the gradebook nor in ``source/``.
    """
    course_root = Path(course_root).resolve()
    put_tools_on_path()
    db_url = settings.db_url or default_db_url(course_root)
    assignments = list(dict.fromkeys(s.assignment for s in submissions))
    capacity = capacity or plan(settings.budget, assignments, settings.workers)
    if any(a in MODELS for a in assignments):
        data.mnist_dir()  # a missing or damaged MNIST file stops the batch before anything runs
    templates = _templates(course_root, assignments, db_url)
    config = (course_root / "nbgrader_config.py").read_text(encoding="utf-8")
    own_checks = course_checks.files(course.load(course_root))
    limits = settings.limits or configured()
    return [Job(s.student, s.assignment, submission_files(s.notebook.parent),
                templates[s.assignment].gradebook, config, settings.budget,
                templates[s.assignment].digest, capacity.threads, limits,
                templates[s.assignment].locked, templates[s.assignment].layout, own_checks)
            for s in submissions]


RETRY = "Run the same command again to retry."


def _ran(run: RunResult | None) -> dict[str, Any]:
    """The fields of an outcome that come from its run."""
    if run is None:
        return {}
    return {"seconds": run.seconds, "worker": run.worker, "review": run.flags, "notes": run.notes}


def make_executor(settings: Settings, capacity: Capacity) -> Executor:
    """The executor the settings ask for."""
    return executor_for(settings.scheduler, capacity.workers)


class _Interrupts:
    """A SIGINT while jobs run stops the batch between two recordings, never inside one: a
    submission is either recorded in the gradebook, in the ledger and printed, or not recorded.

    The first SIGINT is noted and wakes the coordinator through ``finished``; a second one raises
    KeyboardInterrupt at once. Outside the main thread (no signals there) it does nothing.
    """

    WAKE = object()
    """Put in ``finished`` by the first SIGINT."""

    def __init__(self, finished: SimpleQueue) -> None:
        self.finished = finished
        self.seen = False
        self._installed = False
        self._before: Any = None

    def _note(self, signum: int, frame: object) -> None:
        if self.seen:
            raise KeyboardInterrupt
        self.seen = True
        self.finished.put(self.WAKE)  # SimpleQueue.put may be called from a signal handler

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._before = signal.signal(signal.SIGINT, self._note)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._before)


class _Batch:
    """The ledger, the gradebook's writer and the outcomes of one batch, as it goes."""

    def __init__(self, course_root: Path, db_url: str, config: Config, retry_failed: bool) -> None:
        self.course_root = course_root
        self.db_url = db_url
        self.retry_failed = retry_failed
        self.recorder = Recorder(course_root, db_url, config)
        self.ledger = Ledger(db_url)
        self.outcomes: dict[tuple[str, str], Outcome] = {}

    def close(self) -> None:
        """Release the ledger's database connections."""
        self.ledger.close()

    def in_order(self, jobs: Sequence[Job]) -> list[Outcome]:
        """The outcomes so far, in the order of ``jobs``."""
        return [self.outcomes[j.student, j.assignment] for j in jobs
                if (j.student, j.assignment) in self.outcomes]

    def sort_out(self, jobs: Sequence[Job]) -> list[Job]:
        """Settle what the ledger already knows (recorded and unchanged; run before, recorded
        again as ``reused``); return the jobs left to run."""
        to_run: list[Job] = []
        for job in jobs:
            done = self.ledger.recorded(job.student, job.assignment)
            unchanged = done is not None and done.job_key == job.record_key
            # What is already recorded needs the stored run's figures, not its notebook.
            stored = self.ledger.result(job.key, notebook=not unchanged)
            if stored is not None and stored.reason and self.retry_failed:
                self.ledger.forget(job.key)
                stored = None
            if unchanged and stored is not None:
                outcome = self._unchanged(job, stored)
            elif stored is not None:
                outcome = self.record(job, stored, "reused", keep=False)
            else:
                to_run.append(job)
                continue
            self.outcomes[job.student, job.assignment] = outcome
        return to_run

    def _unchanged(self, job: Job, stored: RunResult) -> Outcome:
        """The outcome of a job whose grades are in the gradebook already."""
        if stored.reason:
            return Outcome.failed(job.student, job.assignment, stored.reason, job_key=job.key,
                                  **_ran(stored))
        try:
            score = read_submission(self.course_root, job.assignment, job.student, url=self.db_url)
        except LookupError:
            # The gradebook lost what the ledger says it holds (edited by hand): record it again.
            return self.record(job, self.ledger.result(job.key) or stored, "reused", keep=False)
        return Outcome.graded(score.student, score.assignment, score.tests, status="unchanged",
                              job_key=job.key, **_ran(stored))

    def record(self, job: Job, run: RunResult | BaseException, status: str, *,
               keep: bool) -> Outcome:
        """Record ``run`` of ``job`` (:func:`~autograder.batch.ledger.record_run`; the run kept in
        the ledger first when ``keep``) and return its outcome. A worker's exception, a stopped
        run and an exception while recording make this one submission fail, never the batch."""
        settled = record_run(
            self.ledger, run, student=job.student, assignment=job.assignment,
            record_key=job.record_key, status=status, keep=keep,
            write=lambda notebook, flags: self.recorder.record(job.student, job.assignment,
                                                               notebook, flagged=bool(flags)))
        if settled.score is not None:
            return Outcome.graded(settled.score.student, settled.score.assignment,
                                  settled.score.tests, status=settled.status, job_key=job.key,
                                  **_ran(settled.run))
        error = settled.error
        if error is None:
            reason = settled.reason
        elif settled.run is None:
            reason = f"the worker failed: {type(error).__name__}: {error}. {RETRY}"
        else:
            reason = f"recording failed: {type(error).__name__}: {error}. {RETRY}"
        return Outcome.failed(job.student, job.assignment, reason, job_key=job.key,
                              **_ran(settled.run))

    def settle(self, job: Job, run: RunResult | BaseException,
               twins: Sequence[Job]) -> Iterator[Outcome]:
        """The outcomes of ``job``'s run for it and its byte-identical ``twins`` (``job`` first),
        each recorded as it is settled (the run kept once, with the first)."""
        for index, twin in enumerate(twins):
            outcome = self.record(twin, run, "graded" if index == 0 else "reused", keep=index == 0)
            self.outcomes[twin.student, twin.assignment] = outcome
            yield outcome

    def run(self, executor: Executor, to_run: Sequence[Job], console: Console) -> bool:
        """Run ``to_run`` on ``executor`` with a progress bar, recording each as it finishes;
        return whether it was interrupted (the running notebooks are stopped then, the jobs not
        started are left as they were)."""
        # Identical jobs in one batch (a byte-identical copy) run once; the others reuse the result.
        twins: dict[str, list[Job]] = {}
        for job in to_run:
            twins.setdefault(job.key, []).append(job)
        waiting = deque(group[0] for group in twins.values())
        finished: SimpleQueue = SimpleQueue()
        in_flight = 0
        with display.progress(console) as bar, _Interrupts(finished) as interrupts:
            task = bar.add_task("grading", total=len(to_run))
            try:
                while (waiting or in_flight) and not interrupts.seen:
                    # Submit no more than the workers can start, so that an interrupt leaves the
                    # rest untouched rather than queued.
                    while waiting and in_flight < max(1, executor.slots()) and not interrupts.seen:
                        executors.start(executor, waiting.popleft(), lambda *done: finished.put(done))
                        in_flight += 1
                    item = finished.get()
                    if item is _Interrupts.WAKE:
                        break
                    job, run = item
                    in_flight -= 1
                    for outcome in self.settle(job, run, twins[job.key]):
                        bar.console.print(display.line(outcome), markup=False, highlight=False)
                        bar.advance(task)
            except KeyboardInterrupt:
                interrupts.seen = True
            finally:
                if in_flight:
                    executor.stop()
                executor.close()
        return interrupts.seen


def grade_class(course_root: Path, submissions: Sequence[Submission],
                settings: Settings | None = None, console: Console | None = None) -> BatchResult:
    """Grade ``submissions`` (already in ``course_root/submitted/``) and record them in the gradebook.

    Prints the plan, a progress bar, one line per finished submission and a summary; writes the
    feedback HTML, ``grades.csv``, ``test_summary.csv`` and ``report.html``. An interrupt (SIGINT,
    once the submission being recorded is recorded) stops the running notebooks and returns what
    was recorded, with ``interrupted`` set. ``settings``: :class:`Settings` (None: its defaults).
    """
    console = console or Console()
    settings = settings or Settings()
    # nbgrader's own update_or_create_submission warns about its session on every new submission.
    warnings.filterwarnings("ignore", category=SAWarning)
    start = time.monotonic()
    course_root = Path(course_root).resolve()
    course_settings = course_config(course_root)
    db_url = settings.db_url or default_db_url(course_root, course_settings)
    settings = dataclasses.replace(settings, db_url=db_url, limits=settings.limits or configured())
    capacity = plan(settings.budget, list(dict.fromkeys(s.assignment for s in submissions)),
                    settings.workers)
    jobs = prepare_jobs(course_root, submissions, settings, capacity)

    batch = _Batch(course_root, db_url, course_settings, settings.retry_failed)
    result = BatchResult()
    try:
        to_run = batch.sort_out(jobs)
        executor = make_executor(settings, capacity)
        workers = executor.slots()
        result.where = (executor.description if settings.scheduler else
                        f"{executor.description}, up to {capacity.threads} TensorFlow thread(s) "
                        f"({capacity.reason})")
        _announce(console, settings, result.where, len(jobs), len(to_run), batch.in_order(jobs))
        result.interrupted = batch.run(executor, to_run, console)
    finally:
        batch.close()

    recorded = batch.in_order(jobs)
    result.outcomes = with_similar(course_root, submissions, recorded)
    for before, after in zip(recorded, result.outcomes, strict=True):
        if after.review != before.review and after.status != "failed":
            batch.recorder.flag(after.student, after.assignment)
    result.wall_seconds = time.monotonic() - start
    if result.interrupted:
        console.print(f"Interrupted: {len(result.outcomes)} of {len(jobs)} submission(s) are "
                      f"recorded in the gradebook. Run the same command again to grade the rest.")
        return result
    _finish(course_root, result, settings, workers, console, start)
    return result


def with_similar(course_root: Path, submissions: Sequence[Submission],
                 outcomes: Sequence[Outcome]) -> list[Outcome]:
    """``outcomes`` with a review flag on each submission that is the same work as another
    student's submission of the same assignment in ``submissions`` (see
    :mod:`autograder.batch.review.similar`); the flag names the other students."""
    notebooks = {(s.student, s.assignment): s.notebook for s in submissions}
    found: dict[tuple[str, str], list[similar.Match]] = {}
    for assignment in dict.fromkeys(o.assignment for o in outcomes):
        keys = [k for k in notebooks if k[1] == assignment]
        given, released = similar.course_given(course_root, assignment, notebooks[keys[0]].name)
        prints = {}
        for key in keys:
            try:
                prints[key] = similar.fingerprint(notebooks[key].read_bytes(), given)
            except OSError:  # gone since it was graded: nothing to compare
                continue
        found.update(similar.matches(prints, {k: k[0] for k in prints}, released))
    names = {k: k[0] for k in notebooks}
    flagged = []
    for outcome in outcomes:
        note = similar.flag(found.get((outcome.student, outcome.assignment), ()), names)
        flagged.append(dataclasses.replace(outcome, review=(*outcome.review, note)) if note
                       else outcome)
    return flagged


def _announce(console: Console, settings: Settings, where: str, jobs: int, to_run: int,
              known: Sequence[Outcome]) -> None:
    """Print where and how the batch runs, then a line for each submission already settled."""
    console.print(f"Grading {jobs} submission(s) under the '{settings.budget}' budget on {where}: "
                  f"{to_run} to run, {jobs - to_run} already done or reused. Gradebook: "
                  f"{redact_url(settings.db_url or '')}", markup=False, highlight=False)
    console.print(f"Limits per notebook: {(settings.limits or configured()).describe()}.",
                  highlight=False)
    if not settings.scheduler:
        alarm = sandbox.warning(sandbox.probe())
        if alarm:
            console.print(alarm, style="bold red", markup=False, highlight=False)
    for outcome in known:
        console.print(display.line(outcome), markup=False, highlight=False)


def _finish(course_root: Path, result: BatchResult, settings: Settings, workers: int,
            console: Console, start: float) -> None:
    """Feedback, the CSV files, the class report and the summary of a batch that ran to its end
    (``start``: its ``time.monotonic()`` when it began)."""
    if settings.feedback:
        _feedback(course_root, result.outcomes, settings.db_url or "", console)
    result.csv, result.report = _exports(course_root, result, settings, workers)
    display.summary(result.outcomes, console, wall_seconds=time.monotonic() - start,
                    where=result.where)
    console.print(f"Grades per test: {result.csv}\nClass report: {result.report}\n"
                  f"Feedback: {course_root / 'feedback'}/<student>/<assignment>/",
                  markup=False, highlight=False)


def _feedback(course_root: Path, outcomes: Sequence[Outcome], db_url: str, console: Console) -> None:
    """``nbgrader generate_feedback`` for each assignment with a newly recorded or missing feedback."""
    for assignment_id in dict.fromkeys(o.assignment for o in outcomes):
        graded = [o for o in outcomes if o.assignment == assignment_id and o.status != "failed"]
        missing = [o for o in graded if o.status in ("graded", "reused") or not (
            course_root / "feedback" / o.student / assignment_id / f"{assignment_id}.html").is_file()]
        if not missing:
            continue
        try:
            run_nbgrader(["generate_feedback", assignment_id, "--force",
                          f"--CourseDirectory.db_url={db_url}"], course_root)
        except NbgraderError as exc:
            console.print(f"feedback for {assignment_id}: not written. {for_terminal(str(exc))}",
                          markup=False, highlight=False)


def _exports(course_root: Path, result: BatchResult, settings: Settings,
             workers: int) -> tuple[Path, Path]:
    """Write ``grades.csv``, ``test_summary.csv`` and ``report.html``; return the first and the
    last."""
    from autograder.batch.class_report import write_class_report
    from autograder.batch.export import write_grades_csv, write_test_summary_csv

    output = (settings.output or course_root / "grading").resolve()
    output.mkdir(parents=True, exist_ok=True)
    csv = write_grades_csv(result.outcomes, output / "grades.csv")
    write_test_summary_csv(result.outcomes, output / "test_summary.csv")
    report = write_class_report(result.outcomes, output / "report.html",
                                title=f"{course_root.name}: autograding report", budget=settings.budget,
                                workers=workers, wall_seconds=result.wall_seconds)
    return csv, report
