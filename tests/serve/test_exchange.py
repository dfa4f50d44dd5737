"""The exchange watcher on a real inbound folder laid out as ``nbgrader submit`` 0.9.6 writes it,
without a server: a folder is taken once it is complete, exactly once across restarts; a refused
one gets its reason released as its feedback."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from autograder.authoring.course import COURSE_ID
from autograder.batch.record import course_config
from autograder.serve import tables
from autograder.serve.accept import Acceptor
from autograder.serve.deadlines import Deadlines
from autograder.serve.exchange import Watcher, parse_name
from autograder.serve.feedback import Publisher
from autograder.serve.queue import Queue

STAMP = "2025-03-01 09:00:00.000000 UTC"


@pytest.fixture
def inbound(course: Path, tmp_path: Path, monkeypatch) -> Path:
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("CNNKIT_EXCHANGE", str(exchange))
    folder = exchange / COURSE_ID / "inbound"
    folder.mkdir(parents=True)
    return folder


def watcher(course: Path, instance: str = "one", max_upload: int = 20 * 2**20) -> Watcher:
    url = f"sqlite:///{course / 'gradebook.db'}"
    queue = Queue(tables.connect(url), instance)
    acceptor = Acceptor(course_root=course, queue=queue, deadlines=Deadlines(url, None),
                        attempts_per_hour=10, max_upload=max_upload)
    found = Watcher(Path(), queue, acceptor, Publisher(course, url, course_config(course)), 1.0)
    found._seen = queue.exchange_seen()
    return found


def submit(inbound: Path, student: str, assignment: str, notebook: bytes, *,
           complete: bool = True) -> tuple[Path, str]:
    """A folder as ``nbgrader submit`` writes it (``complete=False``: before its secret)."""
    folder = inbound / f"{student}+{assignment}+{STAMP}+{secrets.token_urlsafe(6)}"
    folder.mkdir()
    (folder / f"{assignment}.ipynb").write_bytes(notebook)
    (folder / "timestamp.txt").write_text(STAMP)
    secret = secrets.token_hex(64)
    if complete:
        (folder / "submission_secret.txt").write_text(secret)
    return folder, secret


def test_parse_name_splits_as_nbgrader_collect():
    found = parse_name(f"a+b+images+{STAMP}+xyz")
    assert (found.student, found.assignment, found.timestamp) == ("a+b", "images", STAMP)
    assert parse_name(f"ann+images+{STAMP}").student == "ann"
    assert parse_name("nonsense") is None


def test_a_complete_folder_is_queued_once_across_restarts(course, inbound, notebooks):
    folder, secret = submit(inbound, "ann", "images", notebooks["reference", "images"], complete=False)
    first = watcher(course)
    first.inbound = inbound
    assert first.scan() == 0  # nbgrader submit has not written the secret yet
    (folder / "submission_secret.txt").write_text(secret)
    assert first.scan() == 1 and first.scan() == 0
    [row] = first.queue.rows()
    assert (row.student, row.assignment, row.source, row.state, row.timestamp) == (
        "ann", "images", "exchange", "waiting", STAMP)
    assert row.secret == secret and row.origin == folder.name
    files = first.queue.files(row.id)
    assert set(files) == {"images.ipynb", "timestamp.txt"}  # the secret is not a graded file
    restarted = watcher(course, "two")
    restarted.inbound = inbound
    assert restarted.scan() == 0
    assert len(restarted.queue.rows()) == 1


def test_refused_folders_get_their_reason_as_feedback(course, inbound, notebooks):
    exchange = inbound.parent
    found = watcher(course, max_upload=200 * 1024)
    found.inbound = inbound
    wrong, wrong_secret = submit(inbound, "bob", "images", notebooks["reference", "pooling"])
    big, big_secret = submit(inbound, "cid", "images", notebooks["reference", "images"])
    (big / "data.bin").write_bytes(b"\0" * 300 * 1024)
    assert found.scan() == 2
    assert found.queue.rows() == []
    refusals = {r.folder: r.refusal for r in found.queue.exchange_refusals()}
    assert "expected the notebook of assignment 'images', got the notebook of assignment " \
           "'pooling'" in refusals[wrong.name]
    assert "Keep only the notebook" in refusals[big.name]
    for secret in (wrong_secret, big_secret):
        page = exchange / "feedback" / f"{notebook_hash(secret=secret, notebook_id='images')}.html"
        assert page.is_file()
        assert "images: not graded" in page.read_text()
