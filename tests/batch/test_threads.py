"""TensorFlow threads are decided when a job starts, not when the batch is planned: a job that
starts alone gets every core, jobs that start while others run share them (at most twice over),
the figure is in the job's result, and the job key does not depend on it."""

from __future__ import annotations

import io
import itertools
import subprocess
import types
from typing import ClassVar

import pytest

from autograder import data
from autograder.batch import capacity, runner
from autograder.batch.jobs import Job


def _job(**changes) -> Job:
    fields = dict(student="alice", assignment="pooling", files={"pooling.ipynb": b"{}"},
                  template=b"db", config="c = 1", budget="cpu", tests_digest="t1")
    fields.update(changes)
    return Job(**fields)


@pytest.mark.parametrize("running, cores, most, threads", [
    (1, 2, 0, 2), (2, 2, 0, 2), (3, 2, 0, 1), (1, 8, 0, 8), (2, 8, 0, 8), (3, 8, 0, 5),
    (4, 8, 0, 4), (8, 16, 0, 4), (1, 8, 2, 2), (4, 8, 16, 4), (1, 1, 0, 1), (9, 4, 0, 1)])
def test_the_cores_are_shared_among_the_jobs_running_at_most_twice_over(running, cores, most,
                                                                         threads) -> None:
    assert capacity.share(running, n_cores=cores, most=most) == threads


def test_the_plan_gives_a_lone_job_every_core(monkeypatch) -> None:
    monkeypatch.setattr(capacity, "cores", lambda: 2)
    monkeypatch.setattr(capacity, "available_gib", lambda: 64.0)
    planned = capacity.plan("cpu", ["mnist_cnn"])
    assert (planned.workers, planned.threads) == (2, 2)


class _FakeRun:
    """``nbgrader autograde`` as a process that ends at once, keeping the environment it got."""

    pids = itertools.count(2**22)
    envs: ClassVar[list[dict]] = []

    def __init__(self, command, *, env, **kwargs) -> None:
        self.pid = next(self.pids)
        self.envs.append(env)
        self.stdout = io.StringIO("")
        self.returncode = 1

    def wait(self, timeout=None) -> int:
        return self.returncode


@pytest.fixture
def started(monkeypatch, tmp_path):
    """Runs jobs through :func:`runner.execute` up to the start of nbgrader, on 4 cores, with
    ``others`` runs of this process already going; the environment each run got."""
    monkeypatch.setattr(capacity, "cores", lambda: 4)
    fake = types.SimpleNamespace(**{name: getattr(subprocess, name) for name in
                                    ("PIPE", "STDOUT", "DEVNULL", "TimeoutExpired")}, Popen=_FakeRun)
    monkeypatch.setattr(runner, "subprocess", fake)
    monkeypatch.setattr(runner.sandbox, "make_groups", lambda *args: ())
    _FakeRun.envs = []
    kit = tmp_path / "kit"
    (kit / "autograder").mkdir(parents=True)
    (kit / "autograder" / "__init__.py").write_text("")

    def run(job: Job, others: int = 0):
        monkeypatch.setattr(runner, "_RUNNING", set(range(1, others + 1)))
        result = runner.execute(job, str(tmp_path), kit_dir=kit, data_dir=data.find_mnist_dir())
        return result, _FakeRun.envs[-1]

    return run


def test_a_job_that_starts_alone_gets_every_core_and_its_result_says_so(started) -> None:
    job = _job(threads=0)
    result, env = started(job)
    assert result.key == job.key and "exited with status 1" in result.reason
    assert result.threads == 4
    assert (env["TF_NUM_INTRAOP_THREADS"], env["OMP_NUM_THREADS"]) == ("4", "4")


@pytest.mark.parametrize("others, threads", [(1, 4), (2, 2), (3, 2), (5, 1)])
def test_jobs_that_start_while_others_run_share_the_cores(started, others, threads) -> None:
    result, env = started(_job(), others)
    assert result.threads == threads and env["TF_NUM_INTRAOP_THREADS"] == str(threads)


def test_a_bound_set_on_the_job_is_kept_and_the_key_does_not_change(started) -> None:
    bounded = _job(threads=1)
    result, env = started(bounded)
    assert result.threads == 1 and env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert bounded.key == _job(threads=0).key == _job(threads=4).key == result.key
