"""The durable queue, the service registry and the tokens on a real SQLite database, without a
server."""

from __future__ import annotations

import csv
import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from autograder.errors import BadInput
from autograder.serve import tables
from autograder.serve.instances import Registry
from autograder.serve.queue import Graded, Queue, pack, unpack
from autograder.serve.tables import now
from autograder.serve.tokens import Principal, Sessions, Tokens, digest, roster_students


@pytest.fixture
def engine(tmp_path: Path):
    engine = tables.connect(f"sqlite:///{tmp_path / 'gradebook.db'}")
    yield engine
    engine.dispose()


def accept(queue: Queue, student: str, assignment: str = "images", notebook: bytes = b"{}", **extra):
    return queue.accept(student=student, assignment=assignment, source="web", origin="upload x",
                        files={f"{assignment}.ipynb": notebook, "timestamp.txt": b"t"},
                        timestamp="t", received=now(), late_seconds=0.0, **extra)


def graded(score: float = 3.0) -> Graded:
    return Graded("graded", "k" * 64, score, 5.0, 0.0,
                  [{"grade_id": "test_a", "score": score, "max_score": 5.0, "message": ""}],
                  [], [], 1.0, "here", b"<html>feedback</html>")


def test_files_round_trip():
    files = {"images.ipynb": b'{"cells": []}', "timestamp.txt": b"2025", "data/x.bin": bytes(range(256))}
    assert unpack(pack(files)) == files


def test_a_newer_upload_replaces_the_waiting_one_of_the_same_student_and_assignment(engine):
    queue = Queue(engine, "service-1")
    first = accept(queue, "ann")
    other_assignment = accept(queue, "ann", "pooling")
    other_student = accept(queue, "bob")
    second = accept(queue, "ann", notebook=b'{"x": 1}')
    assert second.replaced == (first.id,)
    states = {row.id: (row.state, row.replaced_by) for row in queue.rows()}
    assert states[first.id] == ("replaced", second.id)
    assert states[other_assignment.id] == ("waiting", None)
    assert states[other_student.id] == ("waiting", None)
    # A running one is not replaced.
    claimed = queue.claim(second.id)
    third = accept(queue, "ann")
    assert third.replaced == ()
    assert queue.get(claimed.id).state == "running"


def test_claim_is_taken_once_and_finish_happens_once(engine):
    first, second = Queue(engine, "service-1"), Queue(engine, "service-2")
    receipt = accept(first, "ann")
    claimed = first.claim(receipt.id)
    assert claimed is not None and claimed.claims == 1 and claimed.files["images.ipynb"] == b"{}"
    assert second.claim(receipt.id) is None
    assert not second.finish(receipt.id, graded())  # not its claim
    assert first.finish(receipt.id, graded())
    assert not first.finish(receipt.id, graded())   # already done
    row = first.get(receipt.id)
    assert (row.state, row.score, row.max_score) == ("done", 3.0, 5.0)
    assert first.feedback_html(receipt.id) == b"<html>feedback</html>"
    # The same notebook again is said to be identical to the graded one.
    assert accept(first, "ann").identical_to == receipt.id


def test_fair_next_and_the_running_student(engine):
    queue = Queue(engine, "service-1")
    ann = [accept(queue, "ann", a) for a in ("images", "pooling")]
    bob = accept(queue, "bob")
    assert queue.next_to_run().id == ann[0].id
    queue.claim(ann[0].id)
    assert queue.next_to_run().id == bob.id  # ann has a job running
    queue.claim(bob.id)
    assert queue.next_to_run() is None


def test_a_dead_service_s_claims_go_back_to_waiting_and_its_runs_are_lost(engine):
    dead = Queue(engine, "dead")
    receipt = accept(dead, "ann")
    dead.claim(receipt.id)
    run = dead.run_started(receipt.id)
    later = accept(dead, "bob")
    alive = Queue(engine, "alive")
    assert alive.carry_on(["dead"]) == [receipt.id]
    # The start that came to nothing was not ann's turn: hers, accepted first, goes first.
    assert alive.next_to_run().id == receipt.id != later.id
    assert alive.get(receipt.id).state == "waiting"
    assert [(r.id, r.outcome) for r in alive.runs()] == [(run, "lost")]
    again = alive.claim(receipt.id)
    assert again.claims == 1  # the claim the dead service made was no try of the submission


def test_no_number_of_stops_or_deaths_of_the_service_charges_a_try(engine):
    first = Queue(engine, "service-1")
    receipt = accept(first, "ann")
    for attempt in range(5):
        service = Queue(engine, f"service-{attempt}")
        claimed = service.claim(receipt.id)
        assert claimed.claims == 1, attempt
        run = service.run_started(receipt.id)
        if attempt % 2:  # a clean stop puts back its own claims
            assert service.carry_on([service.instance], outcome="stopped") == [receipt.id]
        else:            # a start after a kill puts back the dead one's
            assert Queue(engine, "next").carry_on([service.instance]) == [receipt.id]
        assert first.get(receipt.id).state == "waiting"
        assert [r.outcome for r in first.runs() if r.id == run] == \
            ["stopped" if attempt % 2 else "lost"]
    assert first.get(receipt.id).claims == 0
    # A run killed from outside is a try; one stopped by the service's own stop is not.
    service = Queue(engine, "service-9")
    service.claim(receipt.id)
    assert service.release(receipt.id)
    assert first.get(receipt.id).claims == 1
    service.claim(receipt.id)
    assert service.release(receipt.id, charged=False)
    assert first.get(receipt.id).claims == 1


def test_grade_again_puts_a_failed_submission_back_with_its_tries_cleared(engine):
    queue = Queue(engine, "service-1")
    failed, done, waiting = accept(queue, "ann"), accept(queue, "bob"), accept(queue, "cid")
    for receipt in (failed, done):
        queue.claim(receipt.id)
    queue.fail(failed.id, "it broke", flags=["f"], notes=["n"])
    queue.finish(done.id, graded())
    again = queue.grade_again([failed.id, done.id, waiting.id, 10**30])
    assert [row.id for row in again] == [failed.id] and again[0].reason == "it broke"
    row = queue.get(failed.id)
    assert (row.state, row.claims, row.reason, row.flags, row.finished_at) == \
        ("waiting", 0, "", "[]", None)
    assert queue.get(done.id).state == "done" and queue.grade_again([failed.id]) == []


def test_registry_takes_over_a_dead_service_and_refuses_to_run_beside_a_live_one(engine):
    first = Registry(engine)
    assert first.start() == []
    second = Registry(engine)
    with pytest.raises(BadInput, match="expected no other service on this database, got one running"):
        second.start()  # the first is this very process: alive
    first.stop()
    assert second.start() == [first.id]


def test_registry_sees_a_killed_process_as_dead_at_once(engine):
    from sqlalchemy import update

    first = Registry(engine)
    first.start()
    with engine.begin() as db:  # as if it ran in a process that is gone
        db.execute(update(tables.INSTANCE).values(pid=2**22 + 7))
    assert Registry(engine).start() == [first.id]


def test_uploads_since_counts_attempts(engine):
    queue = Queue(engine, "service-1")
    for _ in range(3):
        accept(queue, "ann")
    accept(queue, "ann", "pooling")
    assert len(queue.uploads_since("ann", "images", now() - timedelta(hours=1))) == 3


def test_tokens_keep_hashes_only_and_verify(engine):
    tokens = Tokens(engine)
    token = tokens.issue("ann")
    key_id, secret = token.split(".")
    with engine.connect() as db:
        [row] = db.execute(tables.TOKEN.select()).all()
    assert row.secret_hash == digest(secret) and secret not in repr(tuple(row))
    assert tokens.verify(token) == Principal("ann", "student")
    assert tokens.verify(f"{key_id}.{secret[:-1]}x") is None
    assert tokens.verify("nonsense") is None and tokens.verify(None) is None
    # A new token replaces the old one.
    newer = tokens.issue("ann")
    assert tokens.verify(token) is None and tokens.verify(newer) == Principal("ann", "student")
    assert tokens.verify(tokens.issue("teacher", "instructor")).is_instructor
    with pytest.raises(BadInput, match="student id: expected one usable"):
        tokens.issue("../etc")


def test_sessions_start_find_and_end(engine):
    tokens = Tokens(engine)
    ann = tokens.verify(tokens.issue("ann"))
    sessions = Sessions(engine, hours=1)
    cookie, session = sessions.start(ann)
    assert sessions.find(cookie) == session
    assert sessions.find(cookie + "x") is None
    sessions.end(cookie)
    assert sessions.find(cookie) is None
    expired = Sessions(engine, hours=-1)
    cookie, _ = expired.start(ann)
    assert sessions.find(cookie) is None


def test_a_session_holds_only_while_the_token_it_was_made_with_does(engine):
    tokens = Tokens(engine)
    sessions = Sessions(engine, hours=1)
    ann = tokens.verify(tokens.issue("ann"))
    bob = tokens.verify(tokens.issue("bob"))
    cookies = [sessions.start(ann)[0] for _ in range(2)]
    bobs, _ = sessions.start(bob)
    # Another process (cnnkit tokens --reissue) makes a new token for ann.
    Tokens(engine).issue("ann")
    assert [sessions.find(c) for c in cookies] == [None, None]
    assert sessions.find(bobs).principal == Principal("bob", "student")
    # A token told apart by its key: a session made with a token of another key does not hold.
    forged, _ = sessions.start(Principal("bob", "student", key_id="0" * 16))
    assert sessions.find(forged) is None


def test_an_old_database_gets_the_new_columns_and_its_old_sessions_end(tmp_path: Path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the session table as the kit made it before
        db.execute("create table cnnkit_serve_session (id_hash varchar(64) primary key, student "
                   "varchar(128) not null, role varchar(16) not null, csrf varchar(64) not null, "
                   "expires datetime not null)")
        db.execute("insert into cnnkit_serve_session values (?, 'ann', 'student', 'c', "
                   "'2999-01-01 00:00:00')", (digest("old-cookie"),))
    engine = tables.connect(f"sqlite:///{path}")
    try:
        Tokens(engine).issue("ann")
        with sqlite3.connect(path) as db:  # a session of before, made with ann's token then
            db.execute("insert into cnnkit_serve_session (id_hash, student, role, csrf, expires) "
                       "values (?, 'ann', 'student', 'c', '2999-01-01 00:00:00')",
                       (digest("older-cookie"),))
        sessions = Sessions(engine, hours=1)
        assert sessions.find("old-cookie") is None and sessions.find("older-cookie") is None
        with sqlite3.connect(path) as db:
            columns = {row[1] for row in db.execute("pragma table_info(cnnkit_serve_session)")}
        assert "token_key" in columns
    finally:
        engine.dispose()


def test_roster_students(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text("lms_id,student_id,name\n1,ann,Ann\n2,bob,Bob\n3,ann,Ann again\n", encoding="utf-8")
    assert roster_students(roster) == ["ann", "bob"]
    roster.write_text("lms_id,name\n1,Ann\n", encoding="utf-8")
    with pytest.raises(BadInput, match="expected a student_id column in its first line, got lms_id,name"):
        roster_students(roster)
    roster.write_text("student_id\nann/../x\n", encoding="utf-8")
    with pytest.raises(BadInput, match="line 2: expected a student_id usable"):
        roster_students(roster)


def test_cnnkit_tokens_writes_personal_links_readable_by_the_instructor_only(repo, tmp_path):
    from autograder.cli.main import main

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text())
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\nbob\n", encoding="utf-8")
    links = tmp_path / "links.csv"
    out = io.StringIO()
    args = ["tokens", str(roster), "--course", str(course), "--url", "https://grading.example.org",
            "--output", str(links)]
    assert main(args, console=Console(file=out)) == 0
    assert stat.S_IMODE(os.stat(links).st_mode) == 0o600
    rows = list(csv.DictReader(links.open()))
    assert [r["student_id"] for r in rows] == ["ann", "bob"]
    assert all(r["link"] == f"https://grading.example.org/signin?token={r['token']}" for r in rows)
    engine = tables.connect(f"sqlite:///{course / 'gradebook.db'}")
    assert Tokens(engine).verify(rows[0]["token"]) == Principal("ann", "student")
    # Again: nobody gets a new link without --reissue.
    assert main(args, console=Console(file=out)) == 0, out.getvalue()
    assert list(csv.DictReader(links.open())) == []
    assert "2 student(s) already have a link" in out.getvalue()
    engine.dispose()
