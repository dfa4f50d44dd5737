"""The worker's recorder without a grader (the queue and the ledger real, the run results and the
publisher made up): a stop of the service costs no try, a killed run does, and the third says so
in one sentence; so do a worker's exception and a recording that fails (its run kept, not run
again); a copy of another student's notebook is flagged for the instructor; each graded
submission is one log line."""

from __future__ import annotations

import json
import logging
import types
from pathlib import Path

import pytest

from autograder.batch.jobs import RunResult
from autograder.batch.ledger import Ledger
from autograder.serve import tables, worker
from autograder.serve.queue import Queue
from autograder.serve.tables import now
from autograder.serve.worker import MAX_CLAIMS, Worker, _Finished

KILLED = "the grading process was killed by signal 9."


@pytest.fixture
def made(tmp_path: Path, repo: Path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    engine = tables.connect(url)
    ledger = Ledger(url)
    queue = Queue(engine, "service-1")
    publisher = types.SimpleNamespace(
        record=lambda *a, **k: types.SimpleNamespace(score=4.0, max_score=5.0, tests=()),
        feedback=lambda *a, **k: b"<html>feedback</html>")
    found = Worker(course_root=repo, db_url=url, queue=queue, ledger=ledger, publisher=publisher,
                   executor=types.SimpleNamespace(slots=lambda: 1, stop=lambda: None),
                   grade_settings=None, capacity=None, counts="latest")
    yield found
    ledger.close()
    engine.dispose()


def take(queue: Queue, student: str, data: bytes, assignment: str = "images"):
    receipt = queue.accept(student=student, assignment=assignment, source="web", origin="x",
                           files={f"{assignment}.ipynb": data, "timestamp.txt": b"t"},
                           timestamp="t", received=now(), late_seconds=0.0)
    return queue.claim(receipt.id)


def job(key: str = "k" * 64):
    return types.SimpleNamespace(key=key, record_key="r" * 64)


def killed() -> RunResult:
    return RunResult("k" * 64, None, 2.0, 0.0, "here", KILLED, retry=True)


def test_a_run_stopped_by_the_service_s_own_stop_costs_no_try(made):
    claimed = take(made.queue, "ann", b"{}")
    run = made.queue.run_started(claimed.id)
    made._stopping.set()
    made._record(_Finished(claimed, job(), killed(), "graded", run))
    row = made.queue.get(claimed.id)
    assert (row.state, row.claims) == ("waiting", 0)
    assert [r.outcome for r in made.queue.runs()] == ["stopped"]


def test_killed_runs_are_tries_and_the_last_says_so_in_one_sentence(made):
    claimed = take(made.queue, "ann", b"{}")
    for attempt in range(1, MAX_CLAIMS + 1):
        assert claimed.claims == attempt
        run = made.queue.run_started(claimed.id)
        made._record(_Finished(claimed, job(), killed(), "graded", run))
        if attempt < MAX_CLAIMS:
            assert made.queue.get(claimed.id).state == "waiting"
            claimed = made.queue.claim(claimed.id)
    row = made.queue.get(claimed.id)
    assert row.state == "failed"
    assert row.reason == (f"{KILLED} It was tried {MAX_CLAIMS} times; ask your instructor.")
    assert ".." not in row.reason


def test_a_copy_of_another_student_s_notebook_is_flagged_not_the_released_one(made, repo):
    released = (repo / "release" / "images" / "images.ipynb").read_bytes()
    own = "\n".join(f"part_{i} = images[{i}] / max(images[{i}].max(), {i + 1}.5)  # peak {i}"
                     for i in range(8))

    def answered(code: str) -> bytes:
        cell = json.dumps({"cell_type": "code", "metadata": {}, "source": code,
                           "execution_count": None, "outputs": []})
        return released.replace(b'"cells": [', b'"cells": [' + cell.encode() + b",", 1)

    ann = take(made.queue, "ann", answered(own))
    bob = take(made.queue, "bob", answered(own))
    eve = take(made.queue, "eve", answered(own.replace(" = ", "=").replace("peak", "top")))
    cid, dan = take(made.queue, "cid", released), take(made.queue, "dan", released)
    failure = RunResult("k" * 64, None, 2.0, 0.0, "here", "the notebook failed.")
    for claimed in (bob, dan, eve, cid):
        run = made.queue.run_started(claimed.id)
        made._record(_Finished(claimed, job(), failure, "graded", run))
    flags = made.queue.get(bob.id).flags
    assert (f"byte for byte the same notebook as #{ann.id} (ann); nearly the same code and text "
            f"as #{eve.id} (eve) (") in flags
    assert f"nearly the same code and text as #{ann.id} (ann) (" in made.queue.get(eve.id).flags
    assert made.queue.get(dan.id).flags == made.queue.get(cid.id).flags == "[]"  # anyone's


def test_each_graded_submission_is_one_log_line(made, monkeypatch, caplog, repo):
    monkeypatch.setattr(worker, "late_penalty", lambda *a: (0.0, 0.0))
    notebook = (repo / "release" / "images" / "images.ipynb").read_bytes()
    claimed = take(made.queue, "ann", notebook)
    done = RunResult("k" * 64, notebook, 12.34, 10.0, "here")
    with caplog.at_level(logging.INFO, logger="autograder.serve"):
        made._record(_Finished(claimed, job(), done, "graded", made.queue.run_started(claimed.id)))
    lines = [r.getMessage() for r in caplog.records if r.name == "autograder.serve.worker"]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"submission {claimed.id} graded: ann, images, 4 / 5 points, ran "
                               f"12.3 s, ")
    assert made.queue.get(claimed.id).state == "done"


def test_a_recording_that_fails_goes_back_with_its_run_kept_and_the_last_try_says_why(made):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    made.publisher.record = broken
    claimed = take(made.queue, "ann", b"{}")
    done = RunResult("k" * 64, b"{}", 3.0, 1.0, "here")
    made._record(_Finished(claimed, job(), done, "graded", made.queue.run_started(claimed.id)))
    assert made.queue.get(claimed.id).state == "waiting"
    # The run was kept before the recording failed: the next claims record it, they run nothing.
    assert made.ledger.result("k" * 64).notebook == b"{}"
    assert [r.outcome for r in made.queue.runs()] == ["graded"]
    for _ in range(MAX_CLAIMS - 1):
        claimed = made.queue.claim(claimed.id)
        made._record(_Finished(claimed, job(), made.ledger.result("k" * 64), "reused"))
    row = made.queue.get(claimed.id)
    assert row.state == "failed"
    assert row.reason == (f"could not be recorded: OSError: disk full. It was tried {MAX_CLAIMS} "
                          f"times; ask your instructor.")


def test_a_worker_s_exception_is_a_try(made):
    claimed = take(made.queue, "ann", b"{}")
    for attempt in range(1, MAX_CLAIMS + 1):
        run = made.queue.run_started(claimed.id)
        made._record(_Finished(claimed, job(), ConnectionError("worker lost"), "graded", run))
        if attempt < MAX_CLAIMS:
            claimed = made.queue.claim(claimed.id)
    row = made.queue.get(claimed.id)
    assert row.state == "failed" and made.ledger.result("k" * 64) is None
    assert row.reason == (f"the worker failed (ConnectionError: worker lost). It was tried "
                          f"{MAX_CLAIMS} times; ask your instructor.")
    assert [r.outcome for r in made.queue.runs()] == ["retry"] * MAX_CLAIMS
