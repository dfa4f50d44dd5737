"""The service grading real notebooks: in the browser, through the exchange, across a SIGKILL
and three SIGTERMs, and fairly. Each test starts ``cnnkit serve`` on a free loopback port (smoke budget, cheap
assignments)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from rich.console import Console
from support.helpers import completed_release
from support.servers import postgres_server

from autograder.authoring.course import COURSE_ID
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.batch.grade import Settings, grade_class
from autograder.batch.outcome import Submission
from autograder.batch.results import read_submission

pytestmark = [pytest.mark.server, pytest.mark.slow]


def cnnkit_grade(serve_template: Path, workdir: Path, student: str, assignment: str,
                 notebook: bytes) -> dict[str, str]:
    """The per-test points ``cnnkit grade`` gives ``notebook``, as the page writes them."""
    course = workdir / "batch-course"
    shutil.copytree(serve_template, course)
    target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True)
    target.write_bytes(notebook)
    grade_class(course, [Submission(student, assignment, target, str(target))],
                Settings(budget="smoke", workers=1, feedback=False), Console(file=io.StringIO()))
    score = read_submission(course, assignment, student)
    return {t.grade_id: f"{t.score:g} / {t.max_score:g}" for t in score.tests}


@pytest.mark.browser
def test_a_student_uploads_in_the_browser_and_sees_the_grades_cnnkit_grade_gives(
        course, serve_template, serve, tokens, browser, notebooks, tmp_path, artefacts):
    people = tokens(course, "ann", "bob")
    service = serve(course, "--workers", "1", "--no-exchange")
    data = notebooks["student-01", "images"]  # some tests pass, some fail
    upload = tmp_path / "images.ipynb"
    upload.write_bytes(data)
    batch = ThreadPoolExecutor(1).submit(cnnkit_grade, serve_template, tmp_path, "ann", "images", data)

    ann = browser.new_context().new_page()
    ann.goto(f"{service.url}/signin?token={people['ann']}")
    assert ann.url == f"{service.url}/me"
    assert ann.locator("[data-who]").inner_text() == "ann"
    ann.select_option("#assignment", "images")
    ann.set_input_files("#notebook", str(upload))
    ann.click("#upload button[type=submit]")
    # The receipt: submission id, time, SHA-256.
    ann.wait_for_selector("#receipt")
    submission_id = int(ann.locator('[data-receipt="id"]').inner_text())
    assert ann.locator('[data-receipt="sha256"]').inner_text() == hashlib.sha256(data).hexdigest()
    assert ann.locator('[data-receipt="received"]').inner_text().endswith("UTC")
    deadline = time.monotonic() + 300
    while ann.locator("#state").get_attribute("data-state") not in ("done", "failed"):
        assert time.monotonic() < deadline, service.output()
        time.sleep(2)
        ann.reload()
    assert ann.locator("#state").get_attribute("data-state") == "done", ann.content()
    shown = {row.get_attribute("data-test"): row.locator("[data-points]").inner_text()
             for row in ann.locator("#tests tbody tr").all()}
    assert shown == batch.result(timeout=300)
    assert len(set(shown.values())) > 1, "the notebook should pass some tests and fail others"
    failing = ann.locator("#tests tr.failed .message").all_inner_texts()
    assert failing and all(": expected" in text for text in failing), failing
    assert "This attempt counts for the grade." in ann.locator("[data-counts]").inner_text()
    # The feedback: nbgrader's page in a sandboxed frame, with the same scores, no hidden tests.
    # Sandboxed without scripts (its own are blocked), and as tall as its content: one scroll bar.
    assert ann.locator("#feedback").get_attribute("sandbox") == "allow-same-origin"
    feedback = ann.request.get(f"{service.url}/submissions/{submission_id}/feedback")
    policy = feedback.headers["content-security-policy"]
    assert feedback.status == 200 and policy.startswith("sandbox allow-same-origin;")
    assert "allow-scripts" not in policy and "script-src" not in policy
    ann.wait_for_selector("#feedback.fitted")
    inner, outer = ann.evaluate("""() => { const f = document.getElementById('feedback');
        return [f.contentDocument.documentElement.scrollHeight, f.clientHeight]; }""")
    assert inner > 900 and abs(outer - inner) <= 8, (inner, outer)
    html = feedback.text()
    assert "images (Score:" in html and "BEGIN HIDDEN TESTS" not in html
    frame = ann.frame_locator("#feedback")
    assert "Score" in frame.locator("body").inner_text(timeout=30_000)
    assert "BEGIN HIDDEN TESTS" not in ann.content()
    # ann's page lists the attempt with its score.
    ann.goto(f"{service.url}/me")
    row = ann.locator(f'#attempts tr[data-submission="{submission_id}"]')
    assert row.get_attribute("data-state") == "done"

    # The student's, the feedback and the instructor's pages, at a desktop's and a phone's width:
    # nothing wider than the screen, failure lines wrapped; the screenshots are kept.
    teacher = browser.new_context().new_page()
    teacher.goto(f"{service.url}/signin?token={tokens(course, 'teacher', role='instructor')['teacher']}")
    shots = artefacts / "service-pages"
    shots.mkdir(parents=True, exist_ok=True)
    for width in (1280, 400):
        for name, page, url in (("student", ann, f"/submissions/{submission_id}"),
                                ("feedback", ann, f"/submissions/{submission_id}/feedback"),
                                ("instructor", teacher, "/instructor")):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.goto(f"{service.url}{url}").status == 200, url
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} page at {width} px is {wide} px wide"
        ann.goto(f"{service.url}/submissions/{submission_id}")
        message = ann.locator("#tests tr.failed .message").first.bounding_box()
        assert message["x"] + message["width"] <= width, (width, message)

    # bob cannot see any of it, by any URL.
    bob = browser.new_context().new_page()
    bob.goto(f"{service.url}/signin?token={people['bob']}")
    for url in (f"/submissions/{submission_id}", f"/submissions/{submission_id}/feedback",
                "/instructor", "/instructor/grades.csv", "/instructor/report.html"):
        response = bob.goto(f"{service.url}{url}")
        assert response.status == 404, url
        assert hashlib.sha256(data).hexdigest() not in bob.content(), url
    answer = bob.request.get(f"{service.url}/api/submissions/{submission_id}",
                             headers={"Authorization": f"Bearer {people['bob']}"})
    assert answer.status == 404
    bob.goto(f"{service.url}/me")
    assert bob.locator("#attempts tbody").inner_text().strip() == "Nothing submitted yet."


@pytest.mark.browser
def test_the_instructor_clicks_grade_again_in_the_browser_and_the_failed_submission_runs_again(
        course, serve, tokens, browser, repo, tmp_path):
    # A notebook that outlasts the course's limit fails by its own fault, as a student's can.
    service = serve(course, "--workers", "1", "--no-exchange", "--limit", "notebook=15")
    released = json.loads((course / "release" / "images" / "images.ipynb").read_text("utf-8"))
    released["cells"].insert(0, {"cell_type": "code", "metadata": {}, "execution_count": None,
                                 "outputs": [], "source": "import time\ntime.sleep(120)"})
    upload = tmp_path / "images.ipynb"
    upload.write_text(json.dumps(released), encoding="utf-8")
    people = tokens(course, "ann")
    ann = browser.new_context().new_page()
    ann.goto(f"{service.url}/signin?token={people['ann']}")
    ann.select_option("#assignment", "images")
    ann.set_input_files("#notebook", str(upload))
    ann.click("#upload button[type=submit]")
    ann.wait_for_selector("#receipt")
    submission_id = int(ann.locator('[data-receipt="id"]').inner_text())

    def state() -> tuple[str, str]:
        [(found, reason)] = service.query(f"select state, reason from cnnkit_serve_submission "
                                          f"where id = {submission_id}")
        return found, reason or ""

    def wait_failed() -> str:
        deadline = time.monotonic() + 240
        while state()[0] != "failed":
            assert time.monotonic() < deadline, service.output()
            time.sleep(1)
        return state()[1]

    assert "ran longer than 15 s in all and was stopped" in wait_failed()
    teacher = browser.new_context().new_page()
    teacher.goto(f"{service.url}/signin?token={tokens(course, 'teacher', role='instructor')['teacher']}")
    teacher.goto(f"{service.url}/instructor")
    row = teacher.locator(f'#failed tr[data-failed="{submission_id}"]')
    assert "ran longer than 15 s" in row.locator(".message").inner_text()
    row.locator("button", has_text="Grade again").click()
    teacher.wait_for_load_state()
    assert (f"Submission #{submission_id} is back in the queue"
            in teacher.locator("main").inner_text()), teacher.content()
    assert state()[0] in ("waiting", "running")
    assert "ran longer than 15 s" in wait_failed()  # run again, by the same rules
    [(runs,)] = service.query(f"select count(*) from cnnkit_serve_run "
                              f"where submission_id = {submission_id}")
    assert runs == 2
    assert (f"submission {submission_id} (ann, images) back in the queue to be graded again, "
            f"asked by teacher") in service.output()


def test_nbgrader_submit_then_fetch_feedback_with_no_instructor_action(course, serve, repo, tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    env = {"CNNKIT_EXCHANGE": str(exchange)}
    # The course charges a late submission everything; images was due yesterday.
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    due = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    run_nbgrader(["db", "assignment", "add", "images", f"--duedate={due}"], course, env=env)
    run_nbgrader(["release_assignment", "images", "--force"], course, env=env)
    service = serve(course, "--workers", "1", env=env)

    student = tmp_path / "student"
    student.mkdir()
    flags = [f"--course={COURSE_ID}", f"--Exchange.root={exchange}",
             f"--Exchange.cache={tmp_path / 'cache'}", "--student=ann"]
    run_nbgrader(["fetch_assignment", "images", *flags], student, env=env)
    completed_release(repo, "images", student / "images" / "images.ipynb")
    submitted = time.monotonic()
    run_nbgrader(["submit", "images", *flags], student, env=env)

    deadline = time.monotonic() + 300
    while True:
        rows = service.query("select id, state, score, penalty, late_seconds from "
                             "cnnkit_serve_submission where source = 'exchange' and student = 'ann'")
        if rows and rows[0][1] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, service.output()
        time.sleep(1)
    [(submission_id, state, score, penalty, late)] = rows
    assert state == "done", service.output()
    assert late > 86000 and penalty == 5.0 and score == 0.0
    seconds = time.monotonic() - submitted

    run_nbgrader(["fetch_feedback", "images", *flags], student, env=env)
    [page] = (student / "images" / "feedback").glob("*/images.html")
    html = page.read_text(encoding="utf-8")
    # Every test passed; nbgrader's late penalty took it all, and the feedback says so.
    assert "images (Score: 0.0 / 5.0)" in html and "Late submission penalty (Score: -5.0)" in html
    assert "BEGIN HIDDEN TESTS" not in html
    # Nobody ran collect: the inbound folder is as nbgrader submit left it.
    assert len(list((exchange / COURSE_ID / "inbound").iterdir())) == 1
    print(f"exchange submission graded and released {seconds:.1f} s after nbgrader submit")

    # The student's page says it was late and what it cost.
    token = _issue(course, "ann")
    status = service.status(token, submission_id)
    assert "after the due date: the course's late penalty applies (5 point(s) taken off)" in status["late"]
    assert status["score"] == "0" and status["source"] == "exchange"


def _issue(course: Path, student: str) -> str:
    from autograder.serve import tables
    from autograder.serve.tokens import Tokens

    engine = tables.connect(f"sqlite:///{course / 'gradebook.db'}")
    try:
        return Tokens(engine).issue(student)
    finally:
        engine.dispose()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_a_killed_service_carries_on_and_grades_every_accepted_submission_exactly_once(
        course, serve, tokens, notebooks):
    people = tokens(course, "s1", "s3", "s4")
    service = serve(course, "--workers", "1", "--no-exchange")
    plan = [("s1", "images", notebooks["reference", "images"]),
            ("s3", "pooling", notebooks["reference", "pooling"]),
            ("s4", "images", notebooks["reference", "images"])]  # identical to s1's
    ids = {}
    for student, assignment, data in plan:
        response = service.upload(people[student], assignment, data)
        assert response.status_code == 202, response.text
        ids[student] = response.json()["id"]
    deadline = time.monotonic() + 180
    while not service.query("select 1 from cnnkit_serve_run where finished is null"):
        assert time.monotonic() < deadline, service.output()
        time.sleep(0.5)
    time.sleep(3)  # well into the notebook
    children = _descendants(service.process.pid)
    assert children, "a grading process should be running"
    service.kill(signal.SIGKILL)
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"grading processes outlived the service: {alive}"
    states = dict(service.query("select student, state from cnnkit_serve_submission"))
    assert states["s1"] == "running" and "waiting" in states.values()

    # Three ordinary stops in a row (SIGTERM, what systemctl stop sends), each while a job runs:
    # each puts the job back in the queue, charges no try and leaves no folder behind.
    jobs = Path(tempfile.mkdtemp(prefix="cnnkit-test-serve-jobs-"))
    jobs.chmod(0o755)  # reachable by the sandbox's user, as /tmp is
    for _ in range(3):
        last = max(run for (run,) in service.query("select id from cnnkit_serve_run"))
        stopped = serve(course, "--workers", "1", "--no-exchange", env={"TMPDIR": str(jobs)})
        deadline = time.monotonic() + 180
        while not stopped.query("select 1 from cnnkit_serve_run where finished is null and id > ?", last):
            assert time.monotonic() < deadline, stopped.output()
            time.sleep(0.5)
        time.sleep(2)  # into the notebook
        stopped.kill(signal.SIGTERM)
        assert stopped.process.returncode == 0, stopped.output()
        assert "Traceback" not in stopped.output(), stopped.output()
        assert not list(jobs.iterdir()), f"a stop left {list(jobs.iterdir())}"
        rows = stopped.query("select state, claims from cnnkit_serve_submission")
        assert {state for state, _ in rows} <= {"waiting", "done"}, rows
        assert all(claims == 0 for state, claims in rows if state == "waiting"), rows
        service = stopped

    restarted = serve(course, "--workers", "1", "--no-exchange")
    final = {student: restarted.wait_final(people[student], [ids[student]])[ids[student]]
             for student in ids}
    assert {s: f["state"] for s, f in final.items()} == dict.fromkeys(ids, "done")
    runs = restarted.query("select submission_id, outcome from cnnkit_serve_run order by id")
    graded = {sid: sum(1 for s, o in runs if s == sid and o == "graded") for sid in ids.values()}
    assert graded == {ids["s1"]: 1, ids["s3"]: 1, ids["s4"]: 0}, runs
    assert (ids["s1"], "lost") in runs
    how = dict(restarted.query("select student, how from cnnkit_serve_submission"))
    assert how["s4"] == "reused"
    # The gradebook holds every one of them.
    full = {"s1": 5.0, "s3": 6.0, "s4": 5.0}
    for student, points in full.items():
        assignment = "pooling" if student == "s3" else "images"
        assert read_submission(course, assignment, student).score == points


def _variant(data: bytes, index: int) -> bytes:
    """``data`` with a mark in its metadata: another notebook to the grader (another job key)."""
    notebook = json.loads(data)
    notebook["metadata"]["cnnkit_test_copy"] = index
    return json.dumps(notebook).encode("utf-8")


def test_one_student_s_twenty_uploads_delay_another_s_first_by_at_most_one_job(
        course, serve, tokens, notebooks):
    people = tokens(course, "ann", "bob")
    service = serve(course, "--workers", "1", "--no-exchange", "--attempts-per-hour", "100")
    ann_ids = []
    for index in range(20):
        assignment = ("images", "pooling")[index % 2]
        response = service.upload(people["ann"], assignment,
                                  _variant(notebooks["reference", assignment], index))
        assert response.status_code == 202, response.text
        ann_ids.append(response.json()["id"])
    bob = service.upload(people["bob"], "images", notebooks["student-01", "images"]).json()["id"]
    service.wait_final(people["bob"], [bob], timeout=300)
    claims = service.query("select student, id from cnnkit_serve_submission where claimed_at is "
                           "not null order by claimed_at")
    before_bob = [sid for student, sid in claims[:claims.index(("bob", bob))]]
    assert len(before_bob) <= 1, claims
    states = dict(service.query("select id, state from cnnkit_serve_submission where student = 'ann'"))
    replaced = [sid for sid in ann_ids if states[sid] == "replaced"]
    # Of ann's twenty, at most one was taken before her later ones came; the later ones replace
    # each other, leaving the latest of each assignment.
    assert len(replaced) >= 17, states
    latest = {ann_ids[-1], ann_ids[-2]}
    assert all(states[sid] != "replaced" for sid in latest)


@pytest.mark.postgres
def test_a_postgresql_database_holds_the_queue_and_the_grades(course, serve, notebooks):
    from sqlalchemy import create_engine, text

    from autograder.serve import tables
    from autograder.serve.tokens import Tokens

    (course / "gradebook.db").unlink()  # nothing may go to SQLite
    with postgres_server() as url:
        engine = tables.connect(url)
        token = Tokens(engine).issue("ann")
        engine.dispose()
        service = serve(course, "--workers", "1", "--no-exchange", "--db-url", url)
        first = service.upload(token, "pooling", notebooks["reference", "pooling"]).json()
        second = service.upload(token, "pooling", notebooks["student-01", "pooling"]).json()
        assert second["replaced"] == [first["id"]] or second["replaced"] == []
        final = service.wait_final(token, [first["id"], second["id"]])
        graded = [f for f in final.values() if f["state"] == "done"]
        assert graded and all(f["max_score"] == "6" for f in graded), final
        assert read_submission(course, "pooling", "ann", url=url).max_score == 6.0
        with create_engine(url).connect() as db:
            assert db.execute(text("select count(*) from cnnkit_serve_run where outcome = 'graded'")
                              ).scalar() == len(graded)
        assert not (course / "gradebook.db").exists()
