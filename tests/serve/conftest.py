"""Fixtures of the grading service's tests: a course with the cheap assignments generated,
``cnnkit serve`` started as a real process on a free loopback port, and its web app in process
(:class:`AppService`: the real queue, tokens, sessions and checks on a SQLite file, no grader)."""

from __future__ import annotations

import shutil
import signal
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from support.service import Service, issue

from autograder.authoring import build
from autograder.authoring.samples import sample_class

#: The assignments the service's tests grade: no training, seconds each.
CHEAP = ("images", "pooling")


@pytest.fixture(scope="session")
def serve_template(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course folder with the cheap assignments defined in its gradebook (made once)."""
    course = tmp_path_factory.mktemp("serve-template") / "course"
    build.make_course(repo, course)
    build.generate(course, CHEAP, solutions=False)
    return course


@pytest.fixture
def course(serve_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template course for one test."""
    target = tmp_path / "course"
    shutil.copytree(serve_template, target)
    return target


@pytest.fixture(scope="session")
def notebooks(repo: Path) -> dict[tuple[str, str], bytes]:
    """The sample class's notebooks of the cheap assignments: (sample student, assignment) ->
    bytes (``reference``, ``unmodified``, ``student-01`` ...)."""
    return {(item.student, item.assignment): nbformat.writes(item.notebook).encode("utf-8")
            for item in sample_class.submissions(repo, CHEAP)}


def _starter() -> tuple[list[Service], object]:
    started: list[Service] = []

    def start(course: Path, *args: str, **kwargs) -> Service:
        service = Service(course, *args, **kwargs).start()
        started.append(service)
        return service

    return started, start


@pytest.fixture
def serve() -> Iterator:
    """Start ``cnnkit serve`` processes with ``serve(course, *args)``; they are stopped after the
    test."""
    started, start = _starter()
    yield start
    for service in started:
        service.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def module_serve() -> Iterator:
    """:func:`serve` for a whole test module."""
    started, start = _starter()
    yield start
    for service in started:
        service.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def module_course(serve_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the template course for one test module."""
    target = tmp_path_factory.mktemp("serve-module") / "course"
    shutil.copytree(serve_template, target)
    return target


@pytest.fixture(scope="session")
def tokens():
    """``tokens(course, "ann", "bob")`` -> {student: token}."""
    def make(course: Path, *students: str, role: str = "student") -> dict[str, str]:
        return {student: issue(course, student, role) for student in students}
    return make


class FixedDeadlines:
    """:class:`autograder.serve.deadlines.Deadlines` with the deadlines given, not the
    gradebook's."""

    def __init__(self, deadlines) -> None:
        self.deadlines = {d.assignment: d for d in deadlines}

    def open(self):
        return dict(self.deadlines)

    def get(self, assignment_id):
        return self.deadlines.get(assignment_id)


class AppService:
    """What the web app reads of a :class:`autograder.serve.service.Service`, on a real SQLite
    database, with the real queue, tokens, sessions, failure counts and upload checks (against
    the repository's source notebooks), and no grader: submissions wait. ``grade_again`` is the
    service's own function."""

    def __init__(self, root: Path, repo: Path, *, deadlines=None, late_penalty: bool = False,
                 **settings) -> None:
        from autograder.batch.intake import notebook as intake_notebook
        from autograder.batch.ledger import Ledger
        from autograder.serve import tables
        from autograder.serve.accept import Acceptor
        from autograder.serve.deadlines import Deadline
        from autograder.serve.queue import Queue
        from autograder.serve.ratelimit import Failures
        from autograder.serve.settings import ServeSettings
        from autograder.serve.tokens import Sessions, Tokens

        root.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{root / 'gradebook.db'}"
        self.engine = tables.connect(self.db_url)
        self.settings = ServeSettings(course=repo, **{"rate_limit": 10_000, "workers": 0,
                                                      "exchange": False, **settings})
        self.course = repo
        self.course_name = "cnn-test-course"
        self.late_penalty = late_penalty
        self.where = "no workers: submissions wait in the queue"
        self.queue = Queue(self.engine, "in-process")
        self.tokens = Tokens(self.engine)
        self.sessions = Sessions(self.engine, self.settings.session_hours)
        self.failures = Failures(10, 10)
        self.ledger = Ledger(self.db_url)
        self.deadlines = FixedDeadlines(deadlines if deadlines is not None else [
            Deadline(a, a.title(), None, None) for a in CHEAP])
        self.acceptor = Acceptor(course_root=repo, queue=self.queue, deadlines=self.deadlines,
                                 attempts_per_hour=self.settings.attempts_per_hour,
                                 max_upload=self.settings.max_upload)
        # The grade ids of the source notebooks, read here once (as NotebookCheck.sources does).
        self.acceptor.notebooks._sources = {
            a: intake_notebook.grade_ids(intake_notebook.parse(
                (repo / "source" / a / f"{a}.ipynb").read_bytes())) for a in CHEAP}
        self.worker = types.SimpleNamespace(ready=threading.Event(), wake=threading.Event())
        self.worker.ready.set()
        self.exports = types.SimpleNamespace(grades_csv=root / "grades.csv",
                                             report_html=root / "report.html")

    def grade_again(self, submission_ids, by: str) -> list[int]:
        from autograder.serve.queue import grade_again

        return grade_again(self.queue, self.ledger, submission_ids, by)

    def close(self) -> None:
        self.ledger.close()
        self.engine.dispose()


@pytest.fixture
def app_service(tmp_path: Path, repo: Path) -> Iterator:
    """``app_service(**settings)`` -> (:class:`AppService`, a Starlette ``TestClient`` of its
    app); closed after the test."""
    from starlette.testclient import TestClient

    from autograder.serve.web import make_app

    made: list = []

    def make(*, client: tuple[str, int] = ("10.1.1.1", 50000), **settings):
        service = AppService(tmp_path / f"app-{len(made)}", repo, **settings)
        made.append(service)
        return service, TestClient(make_app(service), base_url="http://testserver",
                                   client=client, follow_redirects=False)

    yield make
    for service in made:
        service.close()
