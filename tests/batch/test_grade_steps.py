"""The coordinator's steps: jobs prepared from submissions, and a job that cannot be recorded
failing alone while the batch goes on."""

from __future__ import annotations

import csv
import io
import shutil
import signal
from concurrent.futures import Future
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console

from autograder.authoring import build
from autograder.batch import assignment_db, grade
from autograder.batch.capacity import Capacity
from autograder.batch.grade import Settings, grade_class, prepare_jobs
from autograder.batch.jobs import Job, RunResult
from autograder.batch.ledger import Ledger
from autograder.batch.limits import Limits
from autograder.batch.outcome import Submission
from autograder.batch.results import SubmissionScore
from autograder.batch.results import TestScore as Score

RETRY = "Run the same command again to retry."


class _Executor:
    """Runs nothing: every job comes back at once with an executed notebook."""

    description = "a test executor"
    submitted: ClassVar[list[str]] = []
    """The students whose jobs were submitted, in order (the last batch's)."""

    def __init__(self) -> None:
        _Executor.submitted = []

    def slots(self) -> int:
        return 1

    def submit(self, job):
        self.submitted.append(job.student)
        future = Future()
        future.set_result(RunResult(job.key, b'{"cells": []}', 1.5, 1.0, "test:1"))
        return future

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def _recorder(failing: dict[str, BaseException | signal.Signals]):
    """A Recorder whose ``record`` raises ``failing[student]`` (or, for a signal, receives it in
    the middle of recording and goes on), and scores 1/1 otherwise."""

    class Recorder:
        def __init__(self, course_root, db_url, config=None):
            pass

        def record(self, student, assignment, notebook, *, flagged=False):
            if isinstance(failing.get(student), signal.Signals):
                signal.raise_signal(failing[student])
            elif student in failing:
                raise failing[student]
            return SubmissionScore(student, assignment, (Score("test_a", 1, 1),))

    return Recorder


def _course(tmp_path: Path, students: list[str]) -> Path:
    """A course folder with a different pooling notebook from each of ``students``."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    for student in students:
        folder = course / "submitted" / student / "pooling"
        folder.mkdir(parents=True)
        (folder / "pooling.ipynb").write_text(f'{{"cells": [], "who": "{student}"}}')
    return course


def _submissions(course: Path, students: list[str]) -> list[Submission]:
    return [Submission(student, "pooling", course / "submitted" / student / "pooling" / "pooling.ipynb",
                       student) for student in students]


def _jobs(course_root, submissions, settings, capacity=None) -> list[Job]:
    """Jobs as prepare_jobs makes them, without a gradebook."""
    return [Job(s.student, s.assignment, {"pooling.ipynb": s.notebook.read_bytes()}, b"db",
                "c = 1", settings.budget, "t1") for s in submissions]


@pytest.fixture
def batch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run ``grade_class`` on a course of fake submissions, with nothing executed: returns a
    function of (students, failing recordings) -> (result, printed text)."""
    monkeypatch.setattr(grade, "prepare_jobs", _jobs)
    monkeypatch.setattr(grade, "make_executor", lambda settings, capacity: _Executor())
    course = _course(tmp_path, ["alice", "bob", "carol"])

    def run(students, failing):
        monkeypatch.setattr(grade, "Recorder", _recorder(failing))
        out = io.StringIO()
        result = grade_class(course, _submissions(course, students), Settings(
            budget="smoke", scheduler="tcp://test:1", feedback=False, output=tmp_path / "out"),
            Console(file=out, width=300))
        return result, out.getvalue()

    return run


def test_an_exception_while_recording_fails_that_submission_and_the_batch_goes_on(batch, tmp_path):
    result, text = batch(["alice", "bob", "carol"], {"bob": RuntimeError("database is locked")})
    status = {o.student: (o.status, o.reason) for o in result.outcomes}
    assert status == {
        "alice": ("graded", ""),
        "bob": ("failed", f"recording failed: RuntimeError: database is locked. {RETRY}"),
        "carol": ("graded", "")}
    assert not result.interrupted
    assert f"recording failed: RuntimeError: database is locked. {RETRY}" in text
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["bob"]["status"] == "failed" and rows["carol"]["status"] == "graded"
    assert (tmp_path / "out" / "report.html").is_file()


def test_running_again_records_what_failed_to_record(batch, tmp_path):
    batch(["alice", "bob"], {"alice": OSError("disk full")})
    again, _ = batch(["alice"], {})
    # The run was kept in the ledger before recording failed: nothing runs again.
    assert [(o.student, o.status, o.reason) for o in again.outcomes] == [("alice", "reused", "")]


def test_a_ledger_that_fails_fails_the_submission_not_the_batch(batch, monkeypatch):
    mark = Ledger.mark

    def broken_mark(self, student, assignment, key, status):
        if student == "alice":
            raise ValueError("ledger row rejected")
        return mark(self, student, assignment, key, status)

    monkeypatch.setattr(Ledger, "mark", broken_mark)
    result, _ = batch(["alice", "bob"], {})
    assert [(o.student, o.status, o.reason) for o in result.outcomes] == [
        ("alice", "failed", f"recording failed: ValueError: ledger row rejected. {RETRY}"),
        ("bob", "graded", "")]


def test_an_interrupt_while_recording_stops_after_that_recording(batch, tmp_path):
    result, text = batch(["alice", "bob", "carol"], {"alice": signal.SIGINT})
    # Alice's grades, her ledger mark and her line all made it; nothing else was started.
    assert result.interrupted
    assert [(o.student, o.status) for o in result.outcomes] == [("alice", "graded")]
    assert _Executor.submitted == ["alice"]
    assert text.count("graded ") == 1 and "Interrupted: 1 of 3 submission(s) are recorded" in text
    again, _ = batch(["alice", "bob", "carol"], {})
    # Her run was kept: it is not run again (recorded again from the ledger, as this made-up
    # recorder writes no gradebook that would make it "unchanged").
    assert [(o.student, o.status) for o in again.outcomes] == [
        ("alice", "reused"), ("bob", "graded"), ("carol", "graded")]
    assert _Executor.submitted == ["bob", "carol"]


@pytest.mark.slow
def test_prepare_jobs_turns_submissions_into_jobs(repo, tmp_path):
    course = build.make_course(repo, tmp_path / "course")
    submissions = []
    for student in ("alice", "bob"):
        folder = course / "submitted" / student / "images"
        folder.mkdir(parents=True)
        shutil.copy(repo / "release" / "images" / "images.ipynb", folder / "images.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-28 08:00:00.000000 UTC")
        submissions.append(Submission(student, "images", folder / "images.ipynb", student))
    limits = Limits(memory=2**30)
    capacity = Capacity(cores=4, workers=2, threads=2, reason="test")

    jobs = prepare_jobs(course, submissions, Settings(budget="smoke", limits=limits), capacity)

    assert [(j.student, j.assignment, j.budget, j.threads, j.limits) for j in jobs] == [
        ("alice", "images", "smoke", 2, limits), ("bob", "images", "smoke", 2, limits)]
    alice = jobs[0]
    assert set(alice.files) == {"images.ipynb", "timestamp.txt"}
    assert alice.config == (course / "nbgrader_config.py").read_text(encoding="utf-8")
    assert alice.template.startswith(b"SQLite format 3")
    assert len(alice.tests_digest) == 64 and alice.locked and alice.layout
    assert jobs[0].key == jobs[1].key  # the same notebook, graded once
    assert assignment_db.has_assignment(grade.default_db_url(course), "images")
    # Without a capacity, the threads are planned for this machine; without limits, the kit's.
    planned = prepare_jobs(course, submissions[:1], Settings(budget="smoke"))
    assert planned[0].threads >= 1 and planned[0].limits == Limits()
