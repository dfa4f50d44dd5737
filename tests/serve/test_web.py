"""The service's web side on a real server that grades nothing (``--workers 0``): each bad
input gets its refusal (status and one sentence) and nothing is queued; the attempt limit and
replacement; a student sees only their own; sessions, CSRF, headers and escaping."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.server

MAX_UPLOAD_KB = 300
RATE = 40
PER_HOUR = 3


@pytest.fixture(scope="module")
def service(module_course, module_serve):
    return module_serve(module_course, "--workers", "0", "--max-upload", f"{MAX_UPLOAD_KB}KiB",
                        "--rate-limit", str(RATE), "--attempts-per-hour", str(PER_HOUR),
                        "--no-exchange")


@pytest.fixture(scope="module")
def people(module_course, service, tokens) -> dict[str, str]:
    found = tokens(module_course, "ann", "bob", "cid", "dan", "eve", "fay")
    found.update(tokens(module_course, "teacher", role="instructor"))
    return found


def queued(service, student: str) -> int:
    return service.query("select count(*) from cnnkit_serve_submission where student = ?", student)[0][0]


@contextlib.contextmanager
def signed_in(service, token: str) -> Iterator[httpx.Client]:
    """A client with the session of ``token``'s personal link."""
    with httpx.Client(base_url=service.url, timeout=30) as client:
        response = client.get("/signin", params={"token": token})
        assert response.status_code == 303, response.text
        yield client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_each_bad_input_gets_its_refusal_and_nothing_is_queued(service, people, notebooks):
    good = notebooks["reference", "images"]
    cases = [
        ("missing token", None, "images", good, "images.ipynb", 401,
         "token: expected 'Authorization: Bearer <token>'"),
        ("bad token", people["ann"][:-2] + "xx", "images", good, "images.ipynb", 401,
         "got a token that is not valid"),
        ("not a notebook", people["ann"], "images", b"%PDF-1.4 \xe2\x28\xa1 not a notebook",
         "images.ipynb", 400,
         "notebook: expected a notebook in UTF-8, got bytes that are not UTF-8"),
        ("not JSON", people["ann"], "images", b"{ cut short", "images.ipynb", 400,
         "notebook: expected a notebook (JSON), got text that is not JSON"),
        ("too large", people["ann"], "images", b" " * (MAX_UPLOAD_KB + 100) * 1024, "images.ipynb", 413,
         f"upload: expected at most {MAX_UPLOAD_KB} KB, got more"),
        ("unknown assignment", people["ann"], "resnet99", good, "images.ipynb", 404,
         "assignment: expected one of images, pooling, got 'resnet99'"),
        ("assignment not open", people["ann"], "mnist_cnn", good, "images.ipynb", 404,
         "assignment: expected one of images, pooling, got 'mnist_cnn'"),
        ("another assignment's notebook", people["ann"], "images", notebooks["reference", "pooling"],
         "images.ipynb", 400, ("notebook: expected the notebook of assignment 'images', got the "
                               "notebook of assignment 'pooling'")),
        ("path in the file name", people["ann"], "images", good, "../../etc/images.ipynb", 400,
         "file name: expected a plain file name such as images.ipynb, got '../../etc/images.ipynb'"),
        ("not .ipynb", people["ann"], "images", good, "images.py", 400,
         "file: expected a notebook (.ipynb), got 'images.py'"),
    ]
    for label, token, assignment, data, filename, status, message in cases:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{service.url}/api/submissions", headers=headers,
                              data={"assignment": assignment},
                              files={"notebook": (filename, data)}, timeout=60)
        assert response.status_code == status, (label, response.text)
        error = response.json()["error"]
        assert message in error, (label, error)
        assert error.count(". ") <= 3 and "\n" not in error and "Traceback" not in error, (label, error)
    assert queued(service, "ann") == 0
    # Nothing else was disturbed: the next good upload is taken.
    response = service.upload(people["ann"], "images", good)
    assert response.status_code == 202, response.text
    assert queued(service, "ann") == 1


def test_a_flood_of_requests_is_refused_without_disturbing_others(service, people):
    statuses = []
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {people['bob']}"},
                      timeout=30) as client:
        for _ in range(RATE + 20):
            statuses.append(client.get("/api/submissions"))
    refused = [r for r in statuses if r.status_code == 429]
    assert len(refused) >= 15, [r.status_code for r in statuses]
    assert {r.status_code for r in statuses} == {200, 429}
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert "requests: expected at most 40 in a burst, got more. Wait" in refused[0].json()["error"]
    other = httpx.get(f"{service.url}/api/submissions",
                      headers={"Authorization": f"Bearer {people['cid']}"}, timeout=30)
    assert other.status_code == 200 and other.json() == []
    assert queued(service, "bob") == 0


def test_the_attempt_limit_answers_with_when_the_next_is_allowed(service, people, notebooks):
    for _ in range(PER_HOUR):
        assert service.upload(people["dan"], "pooling", notebooks["reference", "pooling"]).status_code == 202
    refused = service.upload(people["dan"], "pooling", notebooks["reference", "pooling"])
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert re.search(rf"attempts: expected at most {PER_HOUR} upload\(s\) of pooling per hour, got "
                     rf"{PER_HOUR + 1}\. Your next attempt is allowed at \d{{4}}-\d\d-\d\d "
                     rf"\d\d:\d\d:\d\d UTC \(in (1 h|59 min)\)", error), error
    assert 3500 < int(refused.headers["Retry-After"]) <= 3601
    assert queued(service, "dan") == PER_HOUR
    # The limit is per assignment.
    assert service.upload(people["dan"], "images", notebooks["reference", "images"]).status_code == 202


def test_a_newer_upload_replaces_the_waiting_one(service, people, notebooks):
    first = service.upload(people["eve"], "images", notebooks["reference", "images"]).json()
    second = service.upload(people["eve"], "images", notebooks["student-01", "images"]).json()
    assert second["replaced"] == [first["id"]]
    old = service.status(people["eve"], first["id"])
    assert (old["state"], old["replaced_by"], old["final"]) == ("replaced", second["id"], True)
    assert "Replaced by submission #" in old["state_text"]
    assert service.status(people["eve"], second["id"])["state"] == "waiting"


def test_a_student_sees_only_their_own_submissions_by_any_url(service, people, notebooks):
    receipt = service.upload(people["fay"], "images", notebooks["reference", "images"]).json()
    mine = f"/submissions/{receipt['id']}"
    with signed_in(service, people["fay"]) as fay:
        assert fay.get(mine).status_code == 200
    with signed_in(service, people["cid"]) as cid:
        for url in (mine, f"{mine}/feedback", "/instructor", "/instructor/grades.csv",
                    "/instructor/report.html", "/submissions/999999", "/submissions/x"):
            response = cid.get(url)
            assert response.status_code == 404, url
            assert "fay" not in response.text and receipt["sha256"] not in response.text, url
        assert receipt["sha256"] not in cid.get("/me").text
    api = {"Authorization": f"Bearer {people['cid']}"}
    assert httpx.get(f"{service.url}/api{mine}", headers=api).status_code == 404
    assert httpx.get(f"{service.url}/api/submissions", headers=api).json() == []
    # Without signing in, pages send you to the sign-in page, and the API wants a token.
    anonymous = httpx.get(f"{service.url}{mine}")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/"
    assert httpx.get(f"{service.url}/api{mine}").status_code == 401
    # The instructor sees it.
    with signed_in(service, people["teacher"]) as teacher:
        page = teacher.get(mine)
        assert page.status_code == 200 and "fay" in page.text
        overview = teacher.get("/instructor")
        assert overview.status_code == 200 and f"#{receipt['id']}" in overview.text


def test_form_posts_need_the_page_s_csrf_token_and_cookies_are_protected(service, people, notebooks):
    response = httpx.get(f"{service.url}/signin", params={"token": people["cid"]})
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    with signed_in(service, people["cid"]) as cid:
        page = cid.get("/me")
        upload = {"files": {"notebook": ("pooling.ipynb", notebooks["reference", "pooling"])}}
        forged = cid.post("/upload", data={"assignment": "pooling"}, **upload)
        assert forged.status_code == 403 and "expected the form of this page" in forged.text
        other_site = cid.post("/upload", data={"assignment": "pooling", "csrf": csrf_of(page.text)},
                              headers={"Origin": "https://evil.example"}, **upload)
        assert other_site.status_code == 403
        assert queued(service, "cid") == 0
        taken = cid.post("/upload", data={"assignment": "pooling", "csrf": csrf_of(page.text)},
                         **upload)
        assert taken.status_code == 303 and taken.headers["location"].startswith("/submissions/")
        receipt = cid.get(taken.headers["location"]).text
        assert "SHA-256 of the notebook" in receipt and "Waiting to be graded" in receipt
        assert queued(service, "cid") == 1
    bad = httpx.post(f"{service.url}/signin", data={"token": people["cid"], "csrf": "x"})
    assert bad.status_code == 403


def test_pages_escape_text_and_send_security_headers(service, people, notebooks):
    with signed_in(service, people["bob"]) as bob:
        page = bob.get("/me")
        headers = page.headers
        assert "script-src" not in headers["content-security-policy"]
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        refused = bob.post("/upload", data={"assignment": "<script>alert(1)</script>",
                                            "csrf": csrf_of(page.text)},
                           files={"notebook": ("images.ipynb", notebooks["reference", "images"])})
        assert refused.status_code == 404
        assert "<script>alert(1)</script>" not in refused.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    signin = httpx.get(f"{service.url}/")
    assert signin.status_code == 200 and 'name="token"' in signin.text
    wrong = httpx.get(f"{service.url}/signin", params={"token": "abc.def"})
    assert wrong.status_code == 401 and "expected the token of your personal link" in wrong.text


def test_late_submissions_say_so_and_are_refused_after_the_cutoff(course, serve, tokens, notebooks):
    from nbgrader.api import Gradebook

    from autograder.authoring.course import COURSE_ID

    now = datetime.now(UTC).replace(tzinfo=None)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        gb.update_or_create_assignment("images", duedate=now - timedelta(hours=2))
        gb.update_or_create_assignment("pooling", duedate=now - timedelta(minutes=10))
    people = tokens(course, "gus")
    service = serve(course, "--workers", "0", "--no-exchange", "--cutoff", "1h")
    closed = service.upload(people["gus"], "images", notebooks["reference", "images"])
    assert closed.status_code == 403
    assert re.fullmatch(r"images: submissions closed at \S+ \S+ UTC \(due \S+ \S+ UTC\); this one came "
                        r"at \S+ \S+ UTC\. Nothing was queued: ask your instructor if you need an "
                        r"extension\.", closed.json()["error"]), closed.json()
    late = service.upload(people["gus"], "pooling", notebooks["reference", "pooling"])
    assert late.status_code == 202
    status = service.status(people["gus"], late.json()["id"])
    # The course sets no late penalty (nbgrader's default): none is spoken of.
    assert re.fullmatch(r"Submitted 1[01] min after the due date\.", status["late"]), status["late"]
    with signed_in(service, people["gus"]) as gus:
        page = gus.get("/me").text
    assert "closed at" in page and "past the due date" in page and "penalty" not in page
    assert 'option value="images"' not in page  # closed: not offered for upload
    assert queued(service, "gus") == 1
