"""The adversarial corpus through the batch grader, in one batch with honest students: each
entry gets its expected outcome, the honest students keep the grades they get alone, and the
grader's files and the other students' grades are untouched."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import threading
from pathlib import Path

import pytest
from rich.console import Console
from support.adversarial_corpus import ASSIGNMENT, ENTRIES, Context, Entry
from support.browser import Opened

from autograder.authoring import build
from autograder.authoring.samples import sample_class
from autograder.batch import intake, sandbox
from autograder.batch.grade import Settings, grade_class
from autograder.batch.limits import Limits

pytestmark = pytest.mark.slow

#: Small limits, so that the hostile entries hit them quickly. Memory is the smaller of the two
#: clocks: a loaded 2-core machine fills 1.5 GiB page by page in about 16 s (3 GiB took up to 31 s),
#: well inside the per-cell limit, so the memory entries meet the memory limit, not the clock.
LIMITS = Limits(notebook_seconds=150, cell_seconds=30, memory=3 * 2**29, processes=300,
                output=5 * 2**20, file_size=100 * 2**20, disk=256 * 2**20)

HONEST = ("reference", "student-01", "student-02")


def _honest(repo: Path) -> list[sample_class.SampleSubmission]:
    return [s for s in sample_class.submissions(repo, [ASSIGNMENT]) if s.student in HONEST]


#: Two students who hand in the same work of their own beyond the tutorial's, one copy reworded.
PAIR = ("pair-a", "pair-b")


def _copied_pair(repo: Path) -> list[sample_class.SampleSubmission]:
    import copy

    import nbformat

    own = "\n".join(f"# check {i}: the brightest pixel of row {i} stays under one\n"
                     f"row_peak_{i} = float(china[{i}].max()) if china[{i}].size else {i}.0"
                     for i in range(10))
    [reference] = [s for s in sample_class.submissions(repo, [ASSIGNMENT])
                   if s.student == "reference"]
    pair = []
    for student, code in zip(PAIR, (own, own.replace(" = ", "=").replace("stays", "is")),
                             strict=True):
        notebook = copy.deepcopy(reference.notebook)
        notebook.cells.append(nbformat.v4.new_code_cell(code))
        pair.append(sample_class.SampleSubmission(student, ASSIGNMENT, notebook, None, True))
    return pair


def _digest(paths: list[Path]) -> dict[str, str]:
    found = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()
                                                      and "__pycache__" not in p.parts)
        for path in files:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class _Listener:
    """A TCP server on the grader's loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.server.close()


def _course(repo: Path, folder: Path) -> Path:
    build.make_course(repo, folder)
    build.generate(folder, [ASSIGNMENT], solutions=False)
    return folder


@pytest.fixture(scope="module")
def alone(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """The honest students' grades when they are graded on their own."""
    course = _course(repo, tmp_path_factory.mktemp("alone") / "course")
    sample_class.write(course, _honest(repo))
    found = intake.from_submitted(course, [ASSIGNMENT])
    result = grade_class(course, found.submissions, Settings(budget="smoke", workers=2, limits=LIMITS,
                                                             feedback=False),
                         Console(file=io.StringIO(), width=200))
    return {o.student: tuple((t.grade_id, t.score) for t in o.tests) for o in result.outcomes}


@pytest.fixture(scope="module")
def hostile(repo: Path, tmp_path_factory: pytest.TempPathFactory, alone: dict):
    """The corpus and the honest students graded in one batch; returns what the tests check."""
    base = tmp_path_factory.mktemp("hostile")
    course = _course(repo, base / "course")
    sample_class.write(course, _honest(repo) + _copied_pair(repo))
    canary = base / "canary.txt"
    canary.write_text("the grader's own file\n")
    listener = _Listener()
    ctx = Context(course, canary, listener.port)
    for entry in ENTRIES:
        folder = course / "submitted" / entry.name / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, data in entry.build(repo, ctx).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    import autograder
    guarded = [course / "source", course / "release", course / "nbgrader_config.py", canary,
               Path(autograder.__file__).parent, repo / "data" / "mnist"]
    guarded += [course / "submitted" / s for s in HONEST]
    before = _digest(guarded)
    found = intake.from_submitted(course, [ASSIGNMENT])
    console = Console(file=io.StringIO(), width=300)
    try:
        result = grade_class(course, found.submissions, Settings(budget="smoke", workers=2, limits=LIMITS),
                             console)
    finally:
        listener.close()
    return {"intake": found, "result": result, "before": before, "after": _digest(guarded),
            "connections": listener.connections, "course": course, "output": console.file.getvalue()}


def test_isolation_is_available_here() -> None:
    isolation = sandbox.probe()
    assert isolation.available, sandbox.warning(isolation)
    assert isolation.pids_root is not None, sandbox.warning(isolation)


def test_the_corpus_has_at_least_25_entries() -> None:
    assert len(ENTRIES) >= 25
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_gets_its_expected_outcome(hostile: dict, entry: Entry) -> None:
    expected = entry.expected
    found = hostile["intake"]
    if not expected.placed:
        reasons = [u.reason for u in found.unplaced if f"/{entry.name}/" in f"/{u.origin}"]
        assert reasons, f"{entry.name} should not be placed; unplaced: {[u.origin for u in found.unplaced]}"
        assert any(expected.unplaced.lower() in r.lower() for r in reasons), reasons
        return
    outcome = next(o for o in hostile["result"].outcomes if o.student == entry.name)
    described = f"{entry.name}: {outcome}"
    if expected.failed is True:
        assert outcome.status == "failed", described
    elif expected.failed is False:
        assert outcome.status != "failed", described
    if outcome.status == "failed" and expected.reason:
        assert (expected.reason in outcome.reason
                or any(expected.reason in n for n in outcome.notes)), described
    if expected.score and outcome.status != "failed":
        full = outcome.max_score
        assert full > 0, described
        assert {"full": outcome.score == full, "not full": outcome.score < full,
                "zero": outcome.score == 0}[expected.score], described
    if expected.review:
        assert any(expected.review in r for r in outcome.review), described
    if expected.no_review:
        assert not outcome.review, described
    if expected.note:
        assert any(re.search(expected.note, n) for n in outcome.notes), described
    if expected.at_most:
        baseline = next(o for o in hostile["result"].outcomes if o.student == expected.at_most)
        allowed = {t.grade_id: t.score for t in baseline.tests}
        assert outcome.max_score == baseline.max_score, described
        assert all(t.score <= allowed[t.grade_id] for t in outcome.tests), described
    if expected.no_leak:
        shown = _shown(hostile["course"], entry.name)
        assert not [line for line in _secrets(hostile["course"]) if line in shown], described


def _shown(course: Path, student: str) -> str:
    """What the student's executed notebook printed, and the feedback page they get."""
    import nbformat

    notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    outputs = [json.dumps(o) for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    feedback = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return "\n".join(outputs) + (feedback.read_text() if feedback.is_file() else "")


def _secrets(course: Path) -> list[str]:
    """Lines that must never reach a student: the hidden tests, a root-only file of the machine."""
    import nbformat

    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    hidden = [block for cell in source.cells
              for block in re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S)]
    lines = [line.strip() for block in hidden for line in block.split("\n") if len(line.strip()) >= 20]
    try:
        lines += [line for line in Path("/etc/shadow").read_text().splitlines() if line.strip()][:3]
    except OSError:
        pass
    return lines


def test_flagged_submissions_are_shown_to_the_grader(hostile: dict) -> None:
    output = hostile["output"]
    assert "flagged for manual review" in output
    flagged = [o for o in hostile["result"].outcomes if o.review]
    assert len(flagged) >= 12
    for outcome in flagged:
        assert f"{outcome.student} / {ASSIGNMENT}:" in output
    report = (hostile["course"] / "grading" / "report.html").read_text()
    assert "Flagged for review" in report and "input_transformers_cleanup" in report


def test_students_who_hand_in_the_same_work_are_flagged_naming_each_other(hostile: dict) -> None:
    import csv

    found = {o.student: o for o in hostile["result"].outcomes if o.student in PAIR}
    for student, other in (PAIR, PAIR[::-1]):
        assert found[student].status == "graded" and found[student].score == found[student].max_score
        [flag] = [r for r in found[student].review if r.startswith("similar to")]
        assert flag.startswith(f"similar to other students' work: nearly the same code and text as "
                               f"{other} ("), flag
    with (hostile["course"] / "grading" / "grades.csv").open(encoding="utf-8") as table:
        review = {row["student_id"]: row["review"] for row in csv.DictReader(table)
                  if row["student_id"] in PAIR}
    assert all("nearly the same code and text as" in text for text in review.values()), review


def test_honest_students_keep_the_grades_they_get_alone(hostile: dict, alone: dict) -> None:
    together = {o.student: tuple((t.grade_id, t.score) for t in o.tests)
                for o in hostile["result"].outcomes if o.student in HONEST}
    assert together == alone
    assert not any(o.review or o.notes for o in hostile["result"].outcomes if o.student in HONEST)


def test_the_graders_files_are_unchanged(hostile: dict) -> None:
    assert hostile["after"] == hostile["before"]
    assert hostile["connections"] == 0, "a kernel reached the grader's loopback"


def test_the_gradebook_is_intact_and_holds_every_placed_submission(hostile: dict) -> None:
    import sqlite3

    course = hostile["course"]
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        students = {row[0] for row in db.execute(
            "SELECT student.id FROM submitted_assignment JOIN student ON student.id = student_id")}
        flagged = {row[0] for row in db.execute(
            "SELECT s.student_id FROM submitted_notebook n JOIN submitted_assignment s "
            "ON s.id = n.assignment_id WHERE n.flagged")}
    graded = {o.student for o in hostile["result"].outcomes if o.status != "failed"}
    assert graded <= students
    assert {o.student for o in hostile["result"].outcomes if o.review and o.status != "failed"} == flagged
    assert not (course / "gradebook.db").read_bytes().endswith(b"owned")


def test_feedback_explains_a_dead_kernel_in_one_sentence(hostile: dict) -> None:
    html = (hostile["course"] / "feedback" / "os-exit" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "the kernel died while running this cell" in html
    assert re.search(r"not run: the kernel died in cell \d+", html)


def test_the_real_report_opens_in_chromium_with_its_plots(hostile: dict, browser, tmp_path: Path) -> None:
    opened = Opened(browser, hostile["course"] / "grading" / "report.html")
    try:
        opened.assert_clean()
        opened.assert_plots_drawn()
        counts = opened.counts()
        assert counts["submissions"] == str(len(hostile["result"].outcomes))
        opened.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        opened.close()
