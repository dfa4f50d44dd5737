"""Grade a class: from placed submissions to the gradebook, feedback, the LMS CSV and the report.

:func:`grade_class` is the batch grader's coordinator. It turns each submission into a
:class:`~autograder.batch.jobs.Job`, skips what the ledger says is done, runs the rest on a
backend (local processes or Dask), and records every finished job in the gradebook itself, one at
a time, as it arrives. Interrupting it loses nothing recorded; running it again picks up the rest.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

from rich.console import Console
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from autograder import data
from autograder.batch import assignment_db, display, sandbox
from autograder.batch.backends import Backend, DaskBackend, LocalBackend
from autograder.batch.capacity import Capacity, plan
from autograder.batch.jobs import Job, submission_files
from autograder.batch.ledger import Ledger
from autograder.batch.limits import Limits, configured
from autograder.batch.outcome import Outcome, Submission
from autograder.batch.record import Recorder, course_config
from autograder.batch.runner import RunResult
from autograder.budget import MODELS
from autograder.authoring.nbgrader_run import NbgraderError, put_tools_on_path, run_nbgrader
from autograder.batch import results
from autograder.batch.results import SubmissionScore, read_submission


@dataclass(frozen=True)
class Settings:
    """How a batch runs; every field has the default a grader expects."""

    budget: str = "cpu"
    """The training budget (``CNNKIT_BUDGET`` in each kernel)."""
    workers: int | None = None
    """Submissions graded at once on this machine (None: what fits, see :mod:`.capacity`)."""
    scheduler: str | None = None
    """Address of a Dask distributed scheduler to run on instead of this machine."""
    db_url: str | None = None
    """The gradebook (None: the course's own, ``sqlite:///<course>/gradebook.db``)."""
    output: Path | None = None
    """Where the CSV and the class report go (None: ``<course>/grading``)."""
    feedback: bool = True
    """Write each student's feedback HTML (``nbgrader generate_feedback``)."""
    retry_failed: bool = False
    """Run again the submissions whose earlier run failed."""
    limits: Limits | None = None
    """Time, memory, process, output and disk limits of each notebook (None: the kit's defaults
    with ``$CNNKIT_LIMITS`` applied)."""


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
    configured = config.get("CourseDirectory", {}).get("db_url")
    return str(configured) if configured else results.db_url(course_root)


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


def _scored(score: SubmissionScore, status: str, result: RunResult | None, key: str) -> Outcome:
    return Outcome(score.student, score.assignment, status, score.tests,
                   result.seconds if result else None, "", result.worker if result else "", key,
                   result.flags if result else (), result.notes if result else ())


def _failed(job: Job, reason: str, result: RunResult | None = None) -> Outcome:
    return Outcome(job.student, job.assignment, "failed", (), result.seconds if result else None,
                   reason, result.worker if result else "", job.key,
                   result.flags if result else (), result.notes if result else ())


def make_backend(settings: Settings, capacity: Capacity) -> Backend:
    """The backend the settings ask for."""
    if settings.scheduler:
        return DaskBackend(settings.scheduler)
    return LocalBackend(capacity.workers)


def grade_class(course_root: Path, submissions: Sequence[Submission], settings: Settings = Settings(),
                console: Console | None = None) -> BatchResult:
    """Grade ``submissions`` (already in ``course_root/submitted/``) and record them in the gradebook.

    Prints the plan, a progress bar, one line per finished submission and a summary; writes the
    feedback HTML, ``grades.csv`` and ``report.html``. A KeyboardInterrupt stops the running
    notebooks and returns what was recorded, with ``interrupted`` set.
    """
    console = console or Console()
    # nbgrader's own update_or_create_submission warns about its session on every new submission.
    warnings.filterwarnings("ignore", category=SAWarning)
    start = time.monotonic()
    course_root = course_root.resolve()
    put_tools_on_path()
    course_settings = course_config(course_root)
    db_url = settings.db_url or default_db_url(course_root, course_settings)
    assignments = list(dict.fromkeys(s.assignment for s in submissions))
    capacity = plan(settings.budget, assignments, settings.workers)
    if any(a in MODELS for a in assignments):
        data.mnist_dir()  # a missing or damaged MNIST file stops the batch before anything runs
    templates = _templates(course_root, assignments, db_url)
    config = (course_root / "nbgrader_config.py").read_text(encoding="utf-8")
    limits = settings.limits or configured()
    jobs = [Job(s.student, s.assignment, submission_files(s.notebook.parent),
                templates[s.assignment].gradebook, config, settings.budget,
                templates[s.assignment].digest, capacity.threads, limits,
                templates[s.assignment].locked, templates[s.assignment].layout)
            for s in submissions]

    ledger = Ledger(db_url)
    recorder = Recorder(course_root, db_url, course_settings)
    outcomes: dict[tuple[str, str], Outcome] = {}
    result = BatchResult()

    def record(job: Job, run: RunResult, status: str) -> Outcome:
        if run.notebook is None:
            ledger.mark(job.student, job.assignment, job.record_key, "failed")
            return _failed(job, run.reason, run)
        score = recorder.record(job.student, job.assignment, run.notebook, flagged=bool(run.flags))
        ledger.mark(job.student, job.assignment, job.record_key, "graded")
        return _scored(score, status, run, job.key)

    to_run: list[Job] = []
    try:
        for job in jobs:
            done = ledger.recorded(job.student, job.assignment)
            unchanged = done is not None and done.job_key == job.record_key
            # What is already recorded needs the stored run's figures, not its notebook.
            stored = ledger.result(job.key, notebook=not unchanged)
            if stored is not None and stored.reason and settings.retry_failed:
                ledger.forget(job.key)
                stored = None
            if unchanged and stored is not None:
                if stored.reason:
                    outcomes[job.student, job.assignment] = _failed(job, stored.reason, stored)
                else:
                    score = read_submission(course_root, job.assignment, job.student, url=db_url)
                    outcomes[job.student, job.assignment] = _scored(score, "unchanged", stored, job.key)
            elif stored is not None:
                outcomes[job.student, job.assignment] = record(job, stored, "reused")
            else:
                to_run.append(job)
        backend = make_backend(settings, capacity)
        workers = getattr(backend, "workers", capacity.workers)
        result.where = (backend.description if settings.scheduler else
                        f"{backend.description}, {capacity.threads} TensorFlow thread(s) each "
                        f"({capacity.reason})")
        console.print(f"Grading {len(jobs)} submission(s) under the '{settings.budget}' budget on "
                      f"{result.where}: {len(to_run)} to run, {len(jobs) - len(to_run)} already "
                      f"done or reused. Gradebook: {_redact(db_url)}", highlight=False)
        console.print(f"Limits per notebook: {limits.describe()}.", highlight=False)
        if not settings.scheduler:
            alarm = sandbox.warning(sandbox.probe())
            if alarm:
                console.print(alarm, style="bold red", markup=False, highlight=False)
        for outcome in outcomes.values():
            console.print(display.line(outcome), markup=False, highlight=False)
        # Identical jobs in one batch (a byte-identical copy) run once; the others reuse the result.
        twins: dict[str, list[Job]] = {}
        for job in to_run:
            twins.setdefault(job.key, []).append(job)
        unique = [group[0] for group in twins.values()]
        with display.progress(console) as bar:
            task = bar.add_task("grading", total=len(to_run))
            try:
                for job, run in backend.run(unique):
                    for index, twin in enumerate(twins[job.key]):
                        if isinstance(run, BaseException):
                            outcome = _failed(twin, f"the worker failed: {type(run).__name__}: {run}. "
                                                    f"Run the same command again to retry.")
                        elif run.retry:
                            outcome = _failed(twin, run.reason, run)
                        else:
                            if index == 0:
                                ledger.store(twin.student, twin.assignment, run)
                            outcome = record(twin, run, "graded" if index == 0 else "reused")
                        outcomes[twin.student, twin.assignment] = outcome
                        bar.console.print(display.line(outcome), markup=False, highlight=False)
                        bar.advance(task)
            except KeyboardInterrupt:
                backend.stop()
                result.interrupted = True
            finally:
                if isinstance(backend, DaskBackend):
                    backend.close()
    finally:
        ledger.close()

    result.outcomes = [outcomes[j.student, j.assignment] for j in jobs if (j.student, j.assignment) in outcomes]
    result.wall_seconds = time.monotonic() - start
    if result.interrupted:
        console.print(f"Interrupted: {len(result.outcomes)} of {len(jobs)} submission(s) are "
                      f"recorded in the gradebook. Run the same command again to grade the rest.")
        return result
    if settings.feedback:
        _feedback(course_root, result.outcomes, db_url, console)
    result.csv, result.report = _exports(course_root, result, settings, workers)
    display.summary(result.outcomes, console, wall_seconds=time.monotonic() - start, where=result.where)
    console.print(f"Grades per test: {result.csv}\nClass report: {result.report}\n"
                  f"Feedback: {course_root / 'feedback'}/<student>/<assignment>/", highlight=False)
    return result


def _redact(db_url: str) -> str:
    """``db_url`` without its password."""
    if "@" in db_url and "://" in db_url:
        scheme, rest = db_url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return db_url


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
            console.print(f"feedback for {assignment_id}: not written. {exc}", markup=False)


def _exports(course_root: Path, result: BatchResult, settings: Settings,
             workers: int) -> tuple[Path, Path]:
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
