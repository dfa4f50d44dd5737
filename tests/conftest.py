"""Shared fixtures: the repository, and the sample class graded once per test session."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from autograder.authoring.course import ASSIGNMENT_IDS, repo_root

# The kit's tests train on the smallest budget; the kernels nbgrader starts inherit this.
os.environ.setdefault("CNNKIT_BUDGET", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser ``browser``, whichever file it is in, so that the
    quick tier (``-m "not slow and not browser and not postgres and not dask and not server"``)
    never starts one."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _course_of_the_process():
    """Each test starts on the course it would alone: a command run in process (``main([...])``)
    makes its ``--course`` the process's course (:func:`autograder.authoring.course.use`), which
    must not reach the next test, whichever test process runs it and in whichever order."""
    from autograder.authoring import course

    before = course._current
    yield
    course._current = before


@pytest.fixture(scope="session")
def repo() -> Path:
    """The course repository."""
    return repo_root()


#: The assignments whose notebooks train (a minute or two each under the smoke budget).
TRAINING_ASSIGNMENTS = ("mnist_cnn", "resnet34")
#: Of their realistic mistakes, how many the README's test command grades (the first ones); the
#: rest are graded by the ``matrix`` tier (``further_training_mistakes``).
TRAINING_MISTAKES_EVERY_RUN = {"mnist_cnn": 1, "resnet34": 0}


def sample_split(repo: Path):
    """The sample class in two: what every test run grades (every submission of the quick
    assignments; of the training ones the reference, the untouched release, the alternative and
    their first mistakes), and the training assignments' further mistakes."""
    from autograder.authoring.samples import sample_class

    every_run, further = [], []
    for item in sample_class.submissions(repo):
        number = item.student.removeprefix("student-")
        if (item.assignment in TRAINING_ASSIGNMENTS and number.isdigit()
                and int(number) > TRAINING_MISTAKES_EVERY_RUN[item.assignment]):
            further.append(item)
        else:
            every_run.append(item)
    return every_run, further


def _grade_samples(repo: Path, workdir: Path, items) -> list:
    from autograder.authoring.samples.run import grade

    console = Console(file=io.StringIO(), width=120)
    assignments = [a for a in ASSIGNMENT_IDS if any(i.assignment == a for i in items)]
    return grade(repo, workdir, budget="smoke", assignments=assignments, items=items, jobs=2,
                 console=console)


@pytest.fixture(scope="session")
def graded_class(repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The sample class, graded by ``nbgrader autograde`` on the smoke budget, with feedback:
    every submission but the training assignments' further mistakes (:func:`sample_split`);
    returns ``(course folder, list of Graded)``."""
    workdir = tmp_path_factory.mktemp("sample") / "course"
    return workdir, _grade_samples(repo, workdir, sample_split(repo)[0])


@pytest.fixture(scope="session")
def further_training_mistakes(repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The training assignments' further sample mistakes, graded as :func:`graded_class` grades
    the rest (the ``matrix`` tier)."""
    workdir = tmp_path_factory.mktemp("sample-further") / "course"
    return workdir, _grade_samples(repo, workdir, sample_split(repo)[1])


@pytest.fixture(scope="module")
def artefacts(repo: Path) -> Path:
    """Where tests keep what a person should look at after a run (screenshots):
    ``$CNNKIT_TEST_ARTEFACTS``, else ``test-artefacts/`` in the repository (not committed)."""
    folder = Path(os.environ.get("CNNKIT_TEST_ARTEFACTS") or repo / "test-artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; a missing browser fails the tests, with the fix."""
    from support.browser import CHROMIUM, CHROMIUM_ARGS, INSTALL
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.fail(f"playwright is not installed. {INSTALL}", pytrace=False)
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}. {INSTALL}", pytrace=False)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}. {INSTALL}", pytrace=False)
        yield chromium
        chromium.close()
