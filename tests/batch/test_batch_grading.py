"""The batch grader end to end: the same grades as plain ``nbgrader autograde`` with one worker
(on a PostgreSQL gradebook), several, and a Dask cluster; resume after SIGINT and SIGKILL; nothing run
twice; gpu-budget jobs only on GPU workers."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from rich.console import Console
from support.servers import dask_cluster, postgres_server

from autograder.authoring import build
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.authoring.samples import sample_class
from autograder.batch.grade import Settings, grade_class
from autograder.batch.outcome import Submission
from autograder.batch.results import read_submission

pytestmark = pytest.mark.slow

#: Quick assignments (no training), so that several full batches fit in a test run.
ASSIGNMENTS = ("images", "pooling")


def _batch(repo: Path) -> list[sample_class.SampleSubmission]:
    """Per assignment: the reference and two realistic mistakes; plus one untouched release."""
    chosen = []
    for item in sample_class.submissions(repo, ASSIGNMENTS):
        if item.student in (sample_class.REFERENCE, "student-01", "student-02") or (
                item.student == sample_class.UNMODIFIED and item.assignment == "pooling"):
            chosen.append(item)
    return chosen


@pytest.fixture(scope="module")
def prepared(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course with the four assignments generated and the batch in ``submitted/``."""
    course = tmp_path_factory.mktemp("batch") / "course"
    build.make_course(repo, course)
    build.generate(course, ASSIGNMENTS, solutions=False)
    items = _batch(repo)
    assert len(items) >= 7
    sample_class.write(course, items)
    return course


def _copy(prepared: Path, target: Path, *, gradebook: bool = True) -> Path:
    ignore = ["autograded", "feedback", "grading"] + ([] if gradebook else ["gradebook.db"])
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns(*ignore))
    return target


def _submissions(course: Path) -> list[Submission]:
    return [Submission(p.parent.parent.name, p.parent.name, p, str(p))
            for p in sorted(course.glob("submitted/*/*/*.ipynb"))]


def _scores(course: Path, submissions: list[Submission], url: str | None = None) -> dict:
    """(student, assignment) -> ((grade id, score, max score), ...) from the gradebook."""
    found = {}
    for s in submissions:
        score = read_submission(course, s.assignment, s.student, url=url)
        found[s.student, s.assignment] = tuple((t.grade_id, t.score, t.max_score) for t in score.tests)
    return found


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=160)


@pytest.fixture(scope="module")
def plain(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The grades of plain ``nbgrader autograde``, one assignment after another."""
    course = _copy(prepared, tmp_path_factory.mktemp("plain") / "course")
    for assignment_id in ASSIGNMENTS:
        run_nbgrader(["autograde", assignment_id, "--force"], course, env={"CNNKIT_BUDGET": "smoke"})
    scores = _scores(course, _submissions(course))
    # The comparison means something only if the batch mixes full marks and lost points.
    assert {v for k, v in scores.items() if k[0] == "reference"} and all(
        sum(t[1] for t in v) == sum(t[2] for t in v) for k, v in scores.items() if k[0] == "reference")
    assert any(sum(t[1] for t in v) < sum(t[2] for t in v) for k, v in scores.items()
               if k[0].startswith("student-"))
    return scores


def test_batch_has_references_and_mistakes(plain: dict) -> None:
    assert len(plain) >= 7
    lost = [k for k, v in plain.items() if sum(t[1] for t in v) < sum(t[2] for t in v)]
    assert len(lost) >= 4, lost


@pytest.mark.dask
@pytest.mark.postgres
def test_dask_workers_and_a_postgresql_gradebook_give_plain_nbgrader_grades(
        prepared: Path, plain: dict, tmp_path: Path) -> None:
    """One batch proves both: the jobs run on two Dask workers (a GPU job only on the worker that
    declares a GPU), the grades go to a PostgreSQL gradebook, and they are plain nbgrader's."""
    course = _copy(prepared, tmp_path / "course", gradebook=False)
    subs = _submissions(course)
    env = {"CNNKIT_BUDGET": "smoke", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with postgres_server() as url, dask_cluster([{"GPU": 1}, {}], env=env) as (address, pids):
        result = grade_class(course, subs, Settings(budget="smoke", scheduler=address, db_url=url),
                             _quiet())
        assert [o.status for o in result.outcomes] == ["graded"] * len(subs)
        assert _scores(course, subs, url) == plain
        # The outcomes carry what the gradebook holds.
        assert {(o.student, o.assignment): tuple((t.grade_id, t.score, t.max_score) for t in o.tests)
                for o in result.outcomes} == plain
        assert not (course / "gradebook.db").exists(), "the SQLite gradebook must not be used"
        ran_on = {o.worker.rsplit(":", 1)[1] for o in result.outcomes}
        assert ran_on == {str(pid) for pid in pids}, "both Dask workers should have taken jobs"
        # A rerun against the same server, on one local worker, executes nothing.
        again = grade_class(course, subs, Settings(budget="smoke", workers=1, db_url=url), _quiet())
        assert [o.status for o in again.outcomes] == ["unchanged"] * len(subs)

        # Under the gpu budget every job goes to the worker that declares a GPU.
        gpu_course = _copy(prepared, tmp_path / "gpu")
        gpu_subs = [s for s in _submissions(gpu_course) if s.assignment == "images"][:2]
        result = grade_class(gpu_course, gpu_subs, Settings(budget="gpu", scheduler=address), _quiet())
        assert [o.status for o in result.outcomes] == ["graded"] * len(gpu_subs)
        assert {o.worker.rsplit(":", 1)[1] for o in result.outcomes} == {str(pids[0])}

    with dask_cluster([{}], env=env) as (address, _):
        no_gpu = _copy(prepared, tmp_path / "no-gpu")
        with pytest.raises(RuntimeError, match=r"--budget gpu: expected a Dask worker that declares "
                                               r"a GPU, got none .* --resources GPU=1"):
            grade_class(no_gpu, [s for s in _submissions(no_gpu) if s.assignment == "images"],
                        Settings(budget="gpu", scheduler=address), _quiet())


def _cnnkit(course: Path, *extra: str) -> subprocess.Popen:
    """``cnnkit grade`` of the batch; its jobs' folders go under :func:`_jobs_folder` (its
    TMPDIR), where :func:`_job_processes` looks for what outlives it."""
    jobs = _jobs_folder(course)
    return subprocess.Popen(
        [sys.executable, "-m", "autograder.cli.main", "grade", *ASSIGNMENTS, "--course", str(course),
         "--budget", "smoke", "--workers", "2", "--no-feedback", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "160", "TMPDIR": str(jobs)})


def _run_until(process: subprocess.Popen, lines: int, sig: int) -> list[str]:
    """Read the command's output until this run has graded ``lines`` submissions, then send
    ``sig``; fails if the command ends before that (it would prove nothing about the signal)."""
    seen = []
    sent = False
    for line in process.stdout:
        seen.append(line)
        if sum(1 for s in seen if s.startswith("graded ")) >= lines:
            process.send_signal(sig)
            sent = True
            break
    rest, _ = process.communicate(timeout=120)
    assert sent, f"the command ended before it graded {lines} submission(s):\n{''.join(seen)}"
    return seen + rest.splitlines(keepends=True)


def _statuses(output: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in output:
        word = line.split(" ", 1)[0]
        if word in ("graded", "reused", "unchanged", "failed"):
            counts[word] = counts.get(word, 0) + 1
    return counts


def _jobs_folder(course: Path) -> Path:
    """A folder of this test's own under /tmp for its commands' job folders (reachable by the
    sandbox's user, as /tmp is; the test's tmp_path is not)."""
    marker = course.parent / "jobs-folder"
    if marker.is_file():
        return Path(marker.read_text())
    jobs = Path(tempfile.mkdtemp(prefix="cnnkit-test-jobs-"))
    jobs.chmod(0o755)
    marker.write_text(str(jobs))
    return jobs


def _job_processes(jobs: Path) -> list[str]:
    """Processes running in a job's private course folder under ``jobs`` (nbgrader and its
    kernel), of this test's commands only: other tests may grade at the same time."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cwd = os.readlink(proc / "cwd")
            except OSError:
                continue
            if cwd.startswith(f"{jobs}/cnnkit-job-"):
                found.append(f"{proc.name} in {cwd}")
    return found


def _gradebook_rows(course: Path) -> dict[str, int]:
    with sqlite3.connect(course / "gradebook.db") as db:
        return {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("submitted_assignment", "grade", "cnnkit_result", "cnnkit_recorded")}


def test_interrupt_kill_and_resume_grade_each_submission_once(prepared: Path, plain: dict,
                                                              tmp_path: Path) -> None:
    course = _copy(prepared, tmp_path / "course")
    total = len(_submissions(course))

    first = _cnnkit(course)
    output = _run_until(first, 2, signal.SIGINT)
    assert first.returncode == 130, "".join(output)
    assert any("Interrupted:" in line and "Run the same command again" in line for line in output)
    recorded_first = _statuses(output).get("graded", 0)
    # Two workers: at most the two jobs in flight finish after the interrupt, so at least three
    # are left for the second run to be killed in the middle of.
    assert 2 <= recorded_first <= total - 3, "".join(output)

    second = _cnnkit(course)
    output = _run_until(second, 2, signal.SIGKILL)
    assert second.returncode == -signal.SIGKILL
    counts = _statuses(output)
    assert counts.get("unchanged", 0) == recorded_first
    recorded_second = counts.get("graded", 0)
    # The killed command's nbgrader processes die with it (parent-death signal), their kernels
    # soon after.
    deadline, stray = time.monotonic() + 15, ["?"]
    while stray and time.monotonic() < deadline:
        time.sleep(0.5)
        stray = _job_processes(_jobs_folder(course))
    assert not stray, f"processes outlived the killed command: {stray}"

    third = _cnnkit(course)
    output = third.communicate(timeout=600)[0].splitlines()
    assert third.returncode == 0, "\n".join(output)
    counts = _statuses(output)
    assert counts.get("unchanged", 0) == recorded_first + recorded_second
    # A run the kill caught while it was being recorded is stored already: it is reused, not run.
    assert recorded_first + recorded_second + counts.get("graded", 0) + counts.get("reused", 0) == total
    assert counts.get("reused", 0) <= 1, counts
    assert _scores(course, _submissions(course)) == plain
    rows = _gradebook_rows(course)
    assert rows["submitted_assignment"] == total and rows["cnnkit_recorded"] == total
    assert rows["cnnkit_result"] == total

    # Nothing changed: nothing runs, nothing is written to the gradebook.
    fourth = _cnnkit(course)
    output = fourth.communicate(timeout=300)[0].splitlines()
    assert fourth.returncode == 0, "\n".join(output)
    assert _statuses(output) == {"unchanged": total}
    assert any(f"{total} submission(s) under the 'smoke' budget" in line and "0 to run" in line
               for line in output), "\n".join(output)
    assert _gradebook_rows(course) == rows


def test_identical_resubmission_is_not_executed_again(prepared: Path, plain: dict, tmp_path: Path) -> None:
    course = _copy(prepared, tmp_path / "course")
    # The reference and one other student: the other must stay as it was.
    subs = [s for s in _submissions(course) if s.assignment == "pooling"
            and s.student in ("reference", "student-01")]
    grade_class(course, subs, Settings(budget="smoke", workers=2, feedback=False), _quiet())
    # The reference resubmits the same notebook later; a new student hands in a byte-identical copy.
    folder = course / "submitted" / "reference" / "pooling"
    (folder / "timestamp.txt").write_text("2030-01-01 00:00:00.000000 UTC\n", encoding="utf-8")
    twin = course / "submitted" / "twin" / "pooling"
    twin.mkdir(parents=True)
    shutil.copy(folder / "pooling.ipynb", twin / "pooling.ipynb")
    subs.append(Submission("twin", "pooling", twin / "pooling.ipynb", str(twin)))
    result = grade_class(course, subs, Settings(budget="smoke", workers=2, feedback=False), _quiet())
    status = {o.student: o.status for o in result.outcomes}
    # Both are recorded from the stored run (the resubmission for its new time), neither runs.
    assert status["twin"] == "reused" and status["reference"] == "reused"
    assert all(s in ("unchanged", "reused") for s in status.values())
    assert _scores(course, subs)["twin", "pooling"] == plain["reference", "pooling"]
    # Under another budget the same notebook is a different job and runs again.
    again = grade_class(course, subs[:1], Settings(budget="cpu", workers=1, feedback=False), _quiet())
    assert [o.status for o in again.outcomes] == ["graded"]
