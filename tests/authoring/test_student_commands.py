"""What students and instructors run: validate, and the whole exchange round trip."""

import csv
import shutil
import subprocess
import sys

import pytest

from autograder.authoring import build
from autograder.authoring.course import ASSIGNMENT_IDS, COURSE_ID, assignment
from autograder.authoring.nbgrader_run import nbgrader_env, run_nbgrader

from support.helpers import completed_release

pytestmark = pytest.mark.slow


def validate(path, cwd):
    process = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)], cwd=cwd,
                             env=nbgrader_env({"CNNKIT_BUDGET": "smoke"}), capture_output=True,
                             text=True, timeout=900)
    return process.stdout + process.stderr


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_validate_passes_a_completed_notebook_and_fails_an_untouched_one(repo, tmp_path, assignment_id):
    """Run where a student would: a folder of their own, without the course's configuration."""
    name = assignment(assignment_id).notebook
    untouched = tmp_path / "untouched" / name
    completed = tmp_path / "completed" / name
    for path in (untouched, completed):
        path.parent.mkdir()
        shutil.copy(repo / "release" / assignment_id / name, path)
    completed_release(repo, assignment_id, completed)

    assert "Success! Your notebook passes all the tests." in validate(completed, completed.parent)

    output = validate(untouched, untouched.parent)
    assert "VALIDATION FAILED" in output
    assert "HIDDEN" not in output
    source = (repo / "source" / assignment_id / name).read_text(encoding="utf-8")
    for hidden_call in ("checks.conv2d_output", "checks.reported_accuracy", "checks.residual_unit_output",
                        "checks.pool2d_output", "checks.floating"):
        if hidden_call in source:
            assert hidden_call not in output


def test_release_fetch_submit_collect_autograde_feedback_export(repo, tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    course = build.make_course(repo, tmp_path / "course")
    env = {"CNNKIT_EXCHANGE": str(exchange), "CNNKIT_BUDGET": "smoke"}
    run_nbgrader(["generate_assignment", "images", "--force"], course, env=env)
    run_nbgrader(["release_assignment", "images", "--force"], course, env=env)

    student_home = tmp_path / "student"
    student_home.mkdir()
    student_flags = [f"--course={COURSE_ID}", f"--Exchange.root={exchange}"]
    run_nbgrader(["fetch_assignment", "images", *student_flags], student_home, env=env)
    fetched = student_home / "images" / "images.ipynb"
    completed_release(repo, "images", fetched)
    run_nbgrader(["submit", "images", *student_flags], student_home, env=env)

    run_nbgrader(["collect", "images"], course, env=env)
    [student] = [p.name for p in (course / "submitted").iterdir()]
    run_nbgrader(["autograde", "images"], course, env=env)
    run_nbgrader(["generate_feedback", "images"], course, env=env)
    assert (course / "feedback" / student / "images" / "images.html").is_file()
    run_nbgrader(["export"], course, env=env)
    with (course / "grades.csv").open(newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if r["assignment"] == "images"]
    assert row["student_id"] == student
    assert float(row["score"]) == float(row["max_score"]) == 5.0


def test_nbgrader_works_without_the_environment_on_path(repo, tmp_path):
    """nbgrader runs `alembic` through PATH; the course configuration puts this interpreter's
    tools first, so a bare PATH still makes a working gradebook."""
    course = build.make_course(repo, tmp_path / "course")
    env = nbgrader_env()
    env["PATH"] = "/usr/bin:/bin"
    process = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "images", "--force"],
                             cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-2000:]
    assert (course / "release" / "images" / "images.ipynb").is_file()
