"""The batch grader's parts, without running notebooks: job keys, worker counts, the ledger and
its recording rules, the executors, the runner's layout, the grader's lines, and the errors a
grader meets first."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from autograder.batch import capacity, display, executors, runner
from autograder.batch.grade import Settings, grade_class, redact_url
from autograder.batch.jobs import Job, RunResult
from autograder.batch.ledger import Ledger, record_run
from autograder.batch.limits import LimitError, Limits, configured
from autograder.batch.outcome import Outcome, Submission
from autograder.batch.results import SubmissionScore
from autograder.batch.results import TestScore as Score
from autograder.batch.runner import cell_seconds, lay_out
from autograder.cli import main as cli
from autograder.data import DATA_DIR_ENV, DataError


def _job(**changes) -> Job:
    fields = dict(student="alice", assignment="pooling",
                  files={"pooling.ipynb": b"{}", "timestamp.txt": b"2026-11-28 08:00:00 UTC"},
                  template=b"db", config="c = 1", budget="cpu", tests_digest="t1")
    fields.update(changes)
    return Job(**fields)


def test_job_key_changes_with_what_decides_the_grade() -> None:
    base = _job()
    assert _job().key == base.key
    for change in ({"files": {"pooling.ipynb": b"{ }", "timestamp.txt": b"2026-11-28 08:00:00 UTC"}},
                   {"tests_digest": "t2"}, {"budget": "smoke"}, {"config": "c = 2"},
                   {"assignment": "convolution"}, {"limits": Limits(memory=2**30)}):
        assert _job(**change).key != base.key, change


def test_job_key_ignores_student_time_and_worker_settings_but_record_key_sees_the_time() -> None:
    base = _job()
    later = _job(files={"pooling.ipynb": b"{}", "timestamp.txt": b"2030-01-01 00:00:00 UTC"})
    assert _job(student="bob").key == base.key
    assert _job(threads=4, template=b"other", locked={"x": "y"}).key == base.key
    assert later.key == base.key
    assert later.record_key != base.record_key


def test_only_gpu_budget_jobs_need_a_gpu_worker() -> None:
    assert _job(budget="gpu").needs_gpu
    assert not any(_job(budget=b).needs_gpu for b in ("cpu", "smoke", "tutorial"))


def test_worker_plan_fits_cores_memory_and_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity, "cores", lambda: 8)
    monkeypatch.setattr(capacity, "available_gib", lambda: 6.0)
    monkeypatch.setattr(capacity, "gpus", lambda: 0)
    training = capacity.plan("cpu", ["resnet34"])
    assert training.workers == 2  # (6 - 1) // 2.5
    assert "8 core(s)" in training.reason and "2.5 GiB" in training.reason
    light = capacity.plan("cpu", ["pooling"])
    # A job that starts alone gets every core; the share is decided when each starts.
    assert light.workers == 5 and light.threads == training.threads == 8
    assert capacity.plan("gpu", ["resnet34"]).workers == 1
    chosen = capacity.plan("cpu", ["pooling"], workers=3)
    assert chosen.workers == 3 and chosen.reason == "set with --workers" and chosen.threads == chosen.cores
    with pytest.raises(ValueError, match="--workers: expected a whole number of at least 1, got 0"):
        capacity.plan("cpu", ["pooling"], workers=0)


def test_available_memory_is_what_psutil_says() -> None:
    import psutil

    assert capacity.available_gib() == pytest.approx(psutil.virtual_memory().available / 2**30,
                                                     rel=0.2)


@pytest.mark.parametrize("text, size", [("4G", 4 * 2**30), ("4GB", 4 * 2**30), ("4g", 4 * 2**30),
                                        ("512M", 512 * 2**20), ("2GiB", 2 * 2**30),
                                        ("1.5G", 3 * 2**29), ("64K", 2**16), ("1000", 1000),
                                        ("4 GiB", 4 * 2**30)])
def test_sizes_of_limits_are_read_with_binary_units(text: str, size: int) -> None:
    assert Limits().with_changes(f"memory={text}").memory == size


@pytest.mark.parametrize("change, message", [
    ("memory=lots", "limit memory: expected a number (sizes may end in K, M or G), got 'lots'."),
    ("disk=G", "limit disk: expected a number (sizes may end in K, M or G), got 'G'."),
    ("memory=0", "limit memory: expected more than 0, got '0'."),
    ("cell=5m", "limit cell: expected a number of seconds, got '5m'."),
    ("notebook=inf", "limit notebook: expected a number of seconds, got 'inf'."),
    ("processes=1.5", "limit processes: expected a whole number, got '1.5'."),
    ("speed=3", "limit: expected one of cell, cell_seconds, disk, file, file_size, memory, notebook, "
                "notebook_seconds, output, processes, time, got 'speed'. Write NAME=VALUE, e.g. "
                "memory=4G."),
])
def test_a_bad_limit_says_which_and_why(change: str, message: str) -> None:
    with pytest.raises(LimitError) as caught:
        Limits().with_changes(change)
    assert str(caught.value) == message


def test_limits_come_from_the_environment_then_the_command_line(monkeypatch) -> None:
    monkeypatch.setenv("CNNKIT_LIMITS", "memory=4G,cell=30")
    limits = configured("cell=60,processes=64")
    assert (limits.memory, limits.cell_seconds, limits.processes) == (4 * 2**30, 60.0, 64)
    assert Limits().describe() == ("2400 s per notebook, 900 s per cell, 8 GiB memory, 512 "
                                   "processes, 50 MiB output, 1 GiB per file, 2 GiB written")
    assert "1.50 GiB memory" in Limits(memory=3 * 2**29).describe()


def test_worker_plan_on_this_machine_is_at_least_one() -> None:
    found = capacity.plan("cpu", ["mnist_cnn"])
    assert found.workers >= 1 and found.threads >= 1 and found.cores >= 1


def test_ledger_keeps_results_and_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    ledger = Ledger(url)
    try:
        assert ledger.result("k1") is None and ledger.recorded("alice", "pooling") is None
        ledger.store("alice", "pooling", RunResult("k1", b'{"cells": []}', 3.5, 2.0, "host:1",
                                                   judge_seconds=0.25, threads=2))
        ledger.store("bob", "pooling", RunResult("k2", None, 1.0, 0.0, "host:2", "it broke"))
        kept = ledger.result("k1")
        assert kept.notebook == b'{"cells": []}' and kept.seconds == 3.5 and kept.worker == "host:1"
        # The job's record keeps the TensorFlow threads it ran with and the judge's time.
        assert (kept.threads, kept.judge_seconds) == (2, 0.25)
        assert ledger.result("k2").notebook is None and ledger.result("k2").reason == "it broke"
        ledger.mark("alice", "pooling", "r1", "graded")
        ledger.mark("alice", "pooling", "r2", "graded")
        assert ledger.recorded("alice", "pooling").job_key == "r2"
        ledger.forget("k2")
        assert ledger.result("k2") is None
    finally:
        ledger.close()
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        assert db.execute("SELECT COUNT(*) FROM cnnkit_recorded").fetchone()[0] == 1


def _recorded(tmp_path: Path, run, *, write=None, keep: bool = True, status: str = "graded"):
    """``record_run`` of ``run`` for alice's pooling on a fresh ledger: (what it said, the stored
    result, the recorded key, what ``write`` was given)."""
    given = []

    def writes(notebook, flags):
        given.append((notebook, flags))
        return SubmissionScore("alice", "pooling", (Score("a", 1, 1),))

    ledger = Ledger(f"sqlite:///{tmp_path / 'gradebook.db'}")
    try:
        settled = record_run(ledger, run, student="alice", assignment="pooling", record_key="r1",
                             write=write or writes, status=status, keep=keep)
        recorded = ledger.recorded("alice", "pooling")
        return settled, ledger.result("k1"), recorded.job_key if recorded else None, given
    finally:
        ledger.close()


def test_a_run_with_a_notebook_is_kept_then_written_then_marked(tmp_path: Path) -> None:
    run = RunResult("k1", b'{"cells": []}', 3.5, 2.0, "host:1", flags=("looks odd",))
    settled, stored, key, given = _recorded(tmp_path, run)
    assert (settled.status, settled.reason, settled.error, settled.run) == ("graded", "", None, run)
    assert settled.score.tests == (Score("a", 1, 1),)
    assert stored.notebook == run.notebook and key == "r1"
    assert given == [(run.notebook, ("looks odd",))]
    (tmp_path / "again").mkdir()
    reused, stored, key, _ = _recorded(tmp_path / "again", run, keep=False, status="reused")
    assert reused.status == "reused" and stored is None and key == "r1"


def test_a_run_that_failed_is_kept_and_marked_failed(tmp_path: Path) -> None:
    run = RunResult("k1", None, 1.0, 0.0, "host:1", "nbgrader autograde exited with status 1: x")
    settled, stored, key, given = _recorded(tmp_path, run)
    assert (settled.status, settled.reason, settled.score) == ("failed", run.reason, None)
    assert stored.reason == run.reason and key == "r1" and given == []


@pytest.mark.parametrize("run", [RuntimeError("worker lost"),
                                 RunResult("k1", None, 2.0, 0.0, "here", "killed by signal 9.",
                                           retry=True)])
def test_a_worker_s_exception_or_a_stopped_run_goes_back_with_nothing_written(tmp_path, run) -> None:
    settled, stored, key, given = _recorded(tmp_path, run)
    assert settled.status == "retry" and (stored, key, given) == (None, None, [])
    if isinstance(run, BaseException):
        assert settled.error is run and settled.run is None and settled.reason == ""
    else:
        assert settled.error is None and settled.reason == "killed by signal 9."


def test_an_exception_while_recording_goes_back_with_the_run_kept(tmp_path: Path) -> None:
    def broken(notebook, flags):
        raise OSError("disk full")

    run = RunResult("k1", b'{"cells": []}', 3.5, 2.0, "host:1")
    settled, stored, key, _ = _recorded(tmp_path, run, write=broken)
    assert settled.status == "retry" and settled.run is run and settled.reason == ""
    assert isinstance(settled.error, OSError) and str(settled.error) == "disk full"
    assert stored is not None and key is None  # kept, not recorded: the next run records it


def test_named_outcomes_say_graded_or_failed() -> None:
    failed = Outcome.failed("bob", "pooling", "x", seconds=2.0, worker="h:1", job_key="k",
                            review=("r",), notes=("n",))
    assert (failed.status, failed.tests, failed.reason, failed.seconds, failed.worker,
            failed.job_key, failed.review, failed.notes) == ("failed", (), "x", 2.0, "h:1", "k",
                                                             ("r",), ("n",))
    with pytest.raises(ValueError, match="status: expected one of graded, reused, unchanged, "
                                         "got 'failed'"):
        Outcome.graded("bob", "pooling", (), status="failed")


def test_local_executor_runs_each_job_to_a_future_and_stop_kills_the_runs(monkeypatch) -> None:
    import threading

    monkeypatch.setattr(runner, "execute", lambda job: RunResult(job.key, b"{}", 1.0, 0.0, "h"))
    stopped = []
    monkeypatch.setattr(runner, "stop_all", lambda: stopped.append(True) or 0)
    with pytest.raises(ValueError, match=r"workers: expected at least 1, got 0\."):
        executors.LocalExecutor(0)
    local = executors.executor_for(None, 2)
    assert isinstance(local, executors.LocalExecutor) and local.slots() == 2
    assert local.description == "2 local worker process(es)"
    came_back, done = [], threading.Event()
    executors.start(local, _job(), lambda job, result: (came_back.append((job, result)), done.set()))
    assert done.wait(10)
    assert came_back[0][0] == _job() and came_back[0][1].key == _job().key
    local.stop()
    local.close()
    assert stopped == [True]


def test_a_worker_s_exception_comes_back_as_the_result(monkeypatch) -> None:
    def lost(job):
        raise ConnectionError("worker lost")

    monkeypatch.setattr(runner, "execute", lost)
    local = executors.LocalExecutor(1)
    came_back = []
    try:
        executors.start(local, _job(), lambda job, result: came_back.append(result))
    finally:
        local.close()
    assert isinstance(came_back[0], ConnectionError)


def test_idle_executor_has_no_slots() -> None:
    idle = executors.executor_for("tcp://ignored:8786", 0)
    assert isinstance(idle, executors.IdleExecutor) and idle.slots() == 0
    assert idle.description == "no workers: submissions wait in the queue"


def test_runner_lays_out_a_private_course_and_refuses_escaping_names(tmp_path: Path) -> None:
    folder = lay_out(_job(), tmp_path)
    assert (tmp_path / "nbgrader_config.py").read_text() == "c = 1"
    assert (tmp_path / "gradebook.db").read_bytes() == b"db"
    assert (folder / "pooling.ipynb").read_bytes() == b"{}"
    assert folder == tmp_path / "submitted" / "alice" / "pooling"
    with pytest.raises(ValueError, match=r"alice/pooling: file name '../../x.py' leaves the submission"):
        (tmp_path / "other").mkdir()
        lay_out(_job(files={"../../x.py": b"boom"}), tmp_path / "other")


def test_cell_seconds_sums_nbclient_timing() -> None:
    nb = nbformat.v4.new_notebook()
    for start, end in (("2026-11-28T08:00:00.000Z", "2026-11-28T08:00:01.500Z"),
                       ("2026-11-28T08:00:02.000Z", "2026-11-28T08:00:04.000Z")):
        cell = nbformat.v4.new_code_cell("1")
        cell.metadata["execution"] = {"iopub.execute_input": start, "shell.execute_reply": end}
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("2"))
    assert cell_seconds(nb) == pytest.approx(3.5)


def test_lines_say_student_assignment_score_seconds_or_reason() -> None:
    graded = Outcome.graded("alice", "pooling", (Score("a", 2, 3), Score("b", 1, 1)), seconds=12.34)
    assert display.line(graded).split() == ["graded", "alice", "pooling", "3/4", "12.3", "s"]
    failed = Outcome.failed("bob", "pooling", "nbgrader autograde exited with status 1: x")
    assert display.line(failed).endswith("nbgrader autograde exited with status 1: x")
    manual = Outcome.graded("carol", "pooling", (Score("a", 0, 3, True),), status="unchanged")
    assert "needs manual grading" in display.line(manual)


def test_summary_counts_each_status() -> None:
    console = Console(file=io.StringIO(), width=160)
    outcomes = [Outcome.graded("a", "pooling", (Score("t", 1, 1),), seconds=1.0),
                Outcome.graded("b", "pooling", (Score("t", 0, 1),), status="reused", seconds=1.0),
                Outcome.failed("c", "pooling", "x")]
    display.summary(outcomes, console, wall_seconds=5, where="here")
    text = console.file.getvalue()
    assert "3 submission(s) in 5 s: 1 executed, 1 reused" in text and "1 failed" in text
    assert "0.5/1" in text


def test_database_password_is_not_printed() -> None:
    assert redact_url("postgresql+psycopg://grader:s3cret@db.example:5432/gb") == \
        "postgresql+psycopg://grader:***@db.example:5432/gb"
    assert redact_url("postgresql://grader:p%40ss@db.example/gb") == \
        "postgresql://grader:***@db.example/gb"
    assert redact_url("sqlite:////tmp/gradebook.db") == "sqlite:////tmp/gradebook.db"
    assert redact_url("not a url") == "(a database URL that SQLAlchemy cannot read)"


def test_missing_mnist_file_stops_the_batch_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path) -> None:
    broken = tmp_path / "mnist"
    broken.mkdir()
    shutil.copy(repo / "data" / "mnist" / "SHA256SUMS", broken / "SHA256SUMS")
    shutil.copy(repo / "data" / "mnist" / "test.csv.gz", broken / "test.csv.gz")
    monkeypatch.setenv(DATA_DIR_ENV, str(broken))
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    notebook = course / "submitted" / "alice" / "mnist_cnn" / "mnist_cnn.ipynb"
    with pytest.raises(DataError, match=r"train.csv.gz: expected the MNIST file train.csv.gz, found "
                                         r"no such file"):
        grade_class(course, [Submission("alice", "mnist_cnn", notebook, "x")],
                    Settings(budget="smoke", workers=1), Console(file=io.StringIO()))
    assert not (course / "gradebook.db").exists()


def _cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(args), Console(file=out, width=200))
    return code, out.getvalue()


def test_grade_refuses_a_folder_without_a_course(tmp_path: Path) -> None:
    code, text = _cli("grade", "--course", str(tmp_path))
    assert code == 2
    assert f"--course: expected a course folder with nbgrader_config.py, got {tmp_path}" in text


def test_grade_names_the_unknown_assignment(repo: Path) -> None:
    code, text = _cli("grade", "poolng", "--course", str(repo), "--plan")
    assert code == 2
    assert "poolng" in text and "pooling" in text and "expected one of" in text


def test_the_kernel_launcher_watches_the_process_jupyter_client_names(monkeypatch) -> None:
    import os

    from autograder.batch.sandbox import launcher

    # Named by jupyter_client: right even when that process died before the launcher looked.
    monkeypatch.setenv("JPY_PARENT_PID", "4321")
    assert launcher._parent() == 4321
    monkeypatch.delenv("JPY_PARENT_PID")
    assert launcher._parent() == os.getppid()
