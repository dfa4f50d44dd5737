"""What instructors and students run with nbgrader: the whole exchange round trip. (Students'
`nbgrader validate` is tested in the student kit's own environment: test_student_kit.py.)"""

import csv
import subprocess
import sys

import pytest
from support.helpers import completed_release

from autograder.authoring import build
from autograder.authoring.course import COURSE_ID
from autograder.authoring.nbgrader_run import nbgrader_env, run_nbgrader

pytestmark = pytest.mark.slow


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
