"""Shared fixtures: the repository, and the sample class graded once per test session."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from autograder.authoring.course import repo_root

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


@pytest.fixture(scope="session")
def repo() -> Path:
    """The course repository."""
    return repo_root()


@pytest.fixture(scope="session")
def graded_class(repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """Every sample submission of every assignment, graded by ``nbgrader autograde`` on the
    smoke budget, with feedback; returns ``(course folder, list of Graded)``."""
    from autograder.authoring.samples.run import grade

    workdir = tmp_path_factory.mktemp("sample") / "course"
    console = Console(file=io.StringIO(), width=120)
    graded = grade(repo, workdir, budget="smoke", jobs=2, console=console)
    return workdir, graded


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
