"""The service's web app in process (:class:`conftest.AppService`: the real queue, tokens,
sessions and checks, no grader): every bad request is a 4xx with a reason, in the asker's format,
and a bounded fuzz of every route finds no 5xx; access a course can manage (reissued tokens end
their sessions, sign-in failures throttled without locking anyone out, sign-out CSRF-checked,
another's link asks first); "grade again"; and the pages' words for their reader."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from autograder.serve.deadlines import Deadline
from autograder.serve.queue import Graded

NOTEBOOK = "release/{0}/{0}.ipynb"


@pytest.fixture(scope="module")
def released(repo) -> dict[str, bytes]:
    """The released notebooks of the cheap assignments: uploads the checks take."""
    return {a: (repo / NOTEBOOK.format(a)).read_bytes() for a in ("images", "pooling")}


def csrf_of(page: str, form: str | None = None) -> str:
    """The CSRF token of the page's first form (or of the form with id ``form``)."""
    text = page[page.index(f'id="{form}"'):] if form else page
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, token: str) -> None:
    response = client.get("/signin", params={"token": token})
    assert response.status_code == 303, response.text


def upload(client: TestClient, token: str, assignment: str, data: bytes, name: str | None = None):
    return client.post("/api/submissions", headers=bearer(token), data={"assignment": assignment},
                       files={"notebook": (name or f"{assignment}.ipynb", data)})


def graded(score: float = 3.0, message: str = "", flags=()) -> Graded:
    return Graded("graded", "k" * 64, score, 5.0, 0.0,
                  [{"grade_id": "test_a", "score": score, "max_score": 5.0, "message": message}],
                  list(flags), [], 1.0, "here", b"<html>feedback</html>")


def submitted(service, student: str, assignment: str, data: bytes, **state) -> int:
    """A submission of ``student`` in the queue, then ``done`` (``graded=...``) or ``failed``
    (``failed="reason"``) as asked."""
    receipt = service.queue.accept(student=student, assignment=assignment, source="web",
                                   origin="upload x", files={f"{assignment}.ipynb": data},
                                   timestamp="t", received=datetime.now(UTC), late_seconds=0.0)
    if state:
        service.queue.claim(receipt.id)
    if "graded" in state:
        assert service.queue.finish(receipt.id, state["graded"])
    if "failed" in state:
        assert service.queue.fail(receipt.id, state["failed"], job_key=state.get("job_key"),
                                  flags=state.get("flags", ()))
    return receipt.id


# --- every bad request is a 4xx with a reason -----------------------------------------------


def test_a_deeply_nested_or_huge_json_upload_is_refused_with_400(app_service):
    service, client = app_service()
    token = service.tokens.issue("ann")
    deep = b'{"cells": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"
    with pytest.raises(RecursionError):  # what the intake's parser did with it
        json.loads(deep)
    response = upload(client, token, "images", deep)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("notebook: expected JSON nested at most 64 levels "
                                               "deep, as Jupyter writes a notebook, got deeper")
    cells = [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [],
              "execution_count": None}] * 80_000
    huge = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()
    start = time.monotonic()
    response = upload(client, token, "images", huge)
    assert response.status_code == 400, response.text
    assert "expected at most 20000 cells, outputs and other JSON lists and objects in all, got " \
           "240003" in response.json()["error"]
    assert time.monotonic() - start < 5  # checking all 80,000 cells took 4 to 11 s
    assert service.queue.rows() == []


def test_ids_are_checked_before_the_database(app_service):
    service, client = app_service()
    token = service.tokens.issue("ann")
    sign_in(client, token)
    for bad in ("9" * 30, "9223372036854775808", "0", "-1", "%EF%BC%91", "1e3", "x"):
        page = client.get(f"/submissions/{bad}")
        assert page.status_code == 404 and "expected one of yours" in page.text, bad
        assert client.get(f"/submissions/{bad}/feedback").status_code == 404, bad
        api = client.get(f"/api/submissions/{bad}", headers=bearer(token))
        assert api.status_code == 404, (bad, api.text)
        assert api.json()["error"].startswith("submission: expected one of yours"), bad


def test_notebook_checks_run_off_the_event_loop(app_service, released):
    service, client = app_service()
    token = service.tokens.issue("ann")
    check = service.acceptor.notebooks.check
    checking = threading.Event()

    def slow_check(data, assignment):
        checking.set()
        time.sleep(2.0)
        check(data, assignment)

    service.acceptor.notebooks.check = slow_check
    with client:  # one event loop for every request, as under uvicorn
        uploaded = {}
        thread = threading.Thread(target=lambda: uploaded.update(
            response=upload(client, token, "images", released["images"])))
        thread.start()
        assert checking.wait(10)
        start = time.monotonic()
        health = client.get("/healthz")
        took = time.monotonic() - start
        thread.join()
    assert health.status_code == 200 and took < 1.0, took
    assert uploaded["response"].status_code == 202


def test_errors_of_the_api_are_json_and_of_the_pages_are_pages(app_service, released):
    service, client = app_service()
    token = service.tokens.issue("ann")
    no_boundary = client.post("/api/submissions", headers={**bearer(token),
                                                           "Content-Type": "multipart/form-data"},
                              content=b"--x\r\n")
    assert no_boundary.status_code == 400
    assert no_boundary.json()["error"].startswith("upload: expected a multipart/form-data body "
                                                  "with the fields assignment and notebook, got "
                                                  "one that cannot be read (")
    two_files = client.post("/api/submissions", headers=bearer(token),
                            data={"assignment": "images"},
                            files=[("notebook", ("a.ipynb", b"{}")), ("other", ("b.ipynb", b"{}"))])
    assert two_files.status_code == 400 and "Too many files" in two_files.json()["error"]
    for method, path, status in (("GET", "/api/nope", 404), ("DELETE", "/api/submissions", 405),
                                 ("PUT", "/api/assignments", 405)):
        response = client.request(method, path, headers=bearer(token))
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/json", path
        assert response.json()["error"].startswith(("path: expected", "method: expected")), path
    page = client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert ("path: expected one of this service&#39;s pages, got &#39;/no/such/page&#39;"
            in page.text)
    sign_in(client, token)
    me = client.get("/me").text
    broken = client.post("/upload", headers={"Content-Type": "multipart/form-data"},
                         content=b"--x\r\n")
    assert broken.status_code == 400 and "expected the upload form&#39;s fields" in broken.text
    assert csrf_of(me)  # still signed in, the page as before


def test_an_upload_over_the_limit_is_answered_413_and_the_connection_closed(app_service):
    """Against uvicorn on loopback: the 413 comes while the chunked body is still being sent,
    and the server closes the connection instead of reading the rest."""
    import socket

    import uvicorn
    from support.servers import free_port

    service, client = app_service(max_upload=100 * 1024)
    token = service.tokens.issue("ann")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        head = (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n"
                f"Content-Type: multipart/form-data; boundary=b\r\n\r\n").encode()
        chunk = b"x" * 65536
        part = (b'--b\r\nContent-Disposition: form-data; name="notebook"; '
                b'filename="images.ipynb"\r\n\r\n')
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(head + b"%x\r\n%s\r\n" % (len(part), part))
            sent, answer = 0, b""
            conn.settimeout(0.05)
            while b"\r\n\r\n" not in answer and sent < 64 * 2**20:
                try:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                    answer += conn.recv(65536)
                except TimeoutError:
                    pass
            conn.settimeout(10)
            head_part = answer.split(b"\r\n\r\n")[0].lower()
            assert head_part.startswith(b"http/1.1 413"), answer[:200]
            assert b"connection: close" in head_part
            # The server reads nothing more: the connection ends while the client still sends.
            closed = False
            for _ in range(2000):
                try:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    got = conn.recv(65536) if _ % 20 == 19 else None
                    if got == b"":
                        closed = True
                        break
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                except TimeoutError:
                    pass
            assert closed, "the server kept reading the body after its 413"
        assert sent < 16 * 2**20, sent
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"POST /api/submissions HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Length: 50000000\r\nAuthorization: Bearer {token}\r\n"
                         f"\r\n".encode())
            answer = b""
            while got := conn.recv(65536):  # to the end: the server closes the connection
                answer += got
            assert answer.startswith(b"HTTP/1.1 413") and b"connection: close" in answer.lower()
            assert b"upload: expected at most 100 KB, got more" in answer
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert service.queue.rows() == []


def test_a_client_that_goes_away_is_logged_without_a_traceback(app_service, caplog):
    import anyio

    service, client = app_service()
    token = service.tokens.issue("ann")
    scope = {"type": "http", "method": "POST", "path": "/api/submissions", "raw_path": b"",
             "query_string": b"", "scheme": "http", "server": ("testserver", 80),
             "client": ("10.1.1.9", 1234), "root_path": "", "http_version": "1.1",
             "headers": [(b"authorization", f"Bearer {token}".encode()),
                         (b"content-type", b"multipart/form-data; boundary=b")]}
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    with caplog.at_level(logging.INFO):
        anyio.run(client.app, scope, receive, send)
    assert [r for r in caplog.records if "went away" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def _fuzz_requests(rng: random.Random, tokens: dict[str, str], notebook: bytes, cookie: str):
    """Random and malformed requests to every route: (method, path, headers, body)."""
    ids = ["1", "2", "0", "-5", "9" * 30, "9223372036854775808", "%00", "%F0%9F%98%80", "..", "x",
           "1%2F2", "١", "1.5", " 1", ""]
    paths = ["/", "/signin", "/signout", "/me", "/upload", "/instructor", "/instructor/grades.csv",
             "/instructor/report.html", "/instructor/grade-again", "/api/assignments",
             "/api/submissions", "/healthz", "/static/style.css", "/static/../../etc/passwd",
             "/api", "/api/", "//", "/%2e%2e/", "/submissions/{id}", "/submissions/{id}/feedback",
             "/api/submissions/{id}"]
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    deep = b'{"cells": ' + b"[" * 5000 + b"]" * 5000 + b"}"

    def mangled() -> bytes:
        data = bytearray(notebook[: rng.randrange(1, len(notebook) + 1)])
        for _ in range(rng.randrange(0, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)

    bodies = [lambda: b"", lambda: rng.randbytes(rng.randrange(1, 3000)), lambda: deep, mangled,
              lambda: notebook, lambda: b'{"cells": {"a": 1}}', lambda: b"[]" * 20000,
              lambda: "\u202e\x1b[31m".encode() * 50,
              lambda: b'{"nbformat": 4, "cells": [1, null]}']
    auth = [None, "Bearer " + tokens["ann"], "Bearer " + tokens["teacher"], "Bearer x.y",
            "Bearer " + "a" * 5000, "Basic abc", "Bearer " + tokens["ann"][:-3] + "\x00ab",
            "bearer", "Bearer ..", "Bearer 0123456789abcdef." + "A" * 43]
    for _ in range(450):
        method = rng.choice(methods)
        path = rng.choice(paths).replace("{id}", rng.choice(ids))
        if rng.random() < 0.3:
            path += "?" + rng.choice(["token=" + tokens["bob"], "token=%ff%fe",
                                      "token=" + "x" * 3000, "again=99999999999999999999",
                                      "a=1&a=2&" * 50, "token="])
        headers = {}
        if (value := rng.choice(auth)) is not None:
            headers["Authorization"] = value
        if rng.random() < 0.5:
            headers["Cookie"] = rng.choice([f"cnnkit_session={cookie}",
                                            "cnnkit_session=" + "z" * 300,
                                            "cnnkit_csrf=abc; cnnkit_session=",
                                            "cnnkit_session=\x7f\x01", "=; ;;"])
        if rng.random() < 0.3:
            headers["Origin"] = rng.choice(["https://evil.example", "null", "http://testserver"])
        if rng.random() < 0.1:
            headers["Host"] = rng.choice([b"[", b"a:b:c", b"testserver:99999", b"",
                                          "é.example".encode()])
        kind = rng.random()
        if method in ("GET", "HEAD", "OPTIONS") and kind < 0.8:
            yield method, path, headers, None, None, None
        elif kind < 0.5:
            form = {rng.choice(["assignment", "csrf", "token", "submission", "x"]):
                    rng.choice(["images", "pooling", "../x", "\x00", "9" * 40, "mnist_cnn", ""])
                    for _ in range(rng.randrange(0, 7))}
            files = {rng.choice(["notebook", "other"]): (rng.choice(["images.ipynb", "../a.ipynb",
                                                                     "a\x01.ipynb", "x.pdf", ""]),
                                                         rng.choice(bodies)())}
            yield method, path, headers, form, files, None
        else:
            headers["Content-Type"] = rng.choice([
                "multipart/form-data", "multipart/form-data; boundary=zz",
                "multipart/form-data; boundary=" + "b" * 200, "application/x-www-form-urlencoded",
                "application/json", "text/plain; charset=utf-42",
                "multipart/form-data; boundary=\"q\"; charset=latin-1"])
            body = rng.choice(bodies)()
            if rng.random() < 0.5 and "boundary=zz" in headers["Content-Type"]:
                body = (b"--zz\r\nContent-Disposition: form-data; name=\"notebook\"; "
                        b"filename=\"images.ipynb\"\r\n\r\n" + body + b"\r\n--zz")  # cut short
            yield method, path, headers, None, None, body


def test_fuzz_every_route_answers_no_5xx_and_the_service_stays_healthy(app_service, released):
    """Seeded random and malformed requests (450 of them) to every route, signed in and not,
    with valid, wrong and broken credentials: never a 5xx, and /healthz answers after."""
    service, client = app_service(max_upload=64 * 1024)
    tokens = {"ann": service.tokens.issue("ann"), "bob": service.tokens.issue("bob"),
              "teacher": service.tokens.issue("teacher", "instructor")}
    submitted(service, "ann", "images", released["images"], failed="it broke")
    submitted(service, "ann", "images", released["images"], graded=graded(message="\x1b[1m"))
    sign_in(client, tokens["ann"])
    cookie = client.cookies.get("cnnkit_session")
    client.cookies.clear()
    statuses = []
    for method, path, headers, form, files, body in _fuzz_requests(random.Random(16), tokens,
                                                                   released["images"], cookie):
        try:
            response = client.request(method, path, headers=headers, data=form, files=files,
                                      content=body)
        except Exception as exc:  # the app raised: what uvicorn would answer 500
            raise AssertionError(f"{method} {path} {headers}: {type(exc).__name__}: {exc}") from exc
        statuses.append(response.status_code)
        assert response.status_code < 500, (method, path, headers, response.text[:300])
    assert client.get("/healthz").json()["status"] == "ok"
    assert len(set(statuses)) >= 6, sorted(set(statuses))  # the fuzz reached many answers


# --- access a course can manage -------------------------------------------------------------


def test_reissuing_a_token_ends_every_session_made_with_the_old_one(app_service, repo, tmp_path):
    from autograder.cli.main import main

    service, client = app_service()
    old = service.tokens.issue("ann")
    teacher = service.tokens.issue("teacher", "instructor")
    sign_in(client, old)
    assert client.get("/me").status_code == 200
    other = TestClient(client.app, client=("10.1.1.2", 1), follow_redirects=False)
    sign_in(other, teacher)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\nann\n", encoding="utf-8")
    links = tmp_path / "links.csv"
    assert main(["tokens", str(roster), "--reissue", "--course", str(repo), "--db-url",
                 service.db_url, "--output", str(links)]) == 0
    signed_out = client.get("/me")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/"
    assert client.get("/api/submissions", headers=bearer(old)).status_code == 401
    new = links.read_text().splitlines()[1].split(",")[1]
    assert client.get("/api/submissions", headers=bearer(new)).status_code == 200
    sign_in(client, new)
    assert client.get("/me").status_code == 200
    assert other.get("/instructor").status_code == 200  # another's session holds


def test_wrong_tokens_from_one_address_do_not_lock_out_valid_ones(app_service):
    service, client = app_service()
    ann, bob = service.tokens.issue("ann"), service.tokens.issue("bob")
    wrong = [client.get("/signin", params={"token": f"{i:016x}.{'x' * 43}"}) for i in range(12)]
    assert [r.status_code for r in wrong] == [401] * 10 + [429] * 2
    assert int(wrong[-1].headers["Retry-After"]) >= 1
    assert "got too many that are not valid from this address or for this token" in wrong[-1].text
    # Behind the same address, the valid tokens still get through.
    assert client.get("/signin", params={"token": ann}).status_code == 303
    assert TestClient(client.app, client=("10.1.1.1", 2), follow_redirects=False).get(
        "/signin", params={"token": bob}).status_code == 303
    # Guesses at one student's token are counted for that token, from any address.
    key = ann.split(".")[0]
    guesses = [TestClient(client.app, client=(f"10.2.0.{i}", 1), follow_redirects=False).get(
        "/signin", params={"token": f"{key}.{'y' * 43}"}) for i in range(11)]
    assert [r.status_code for r in guesses] == [401] * 10 + [429]
    assert TestClient(client.app, client=("10.3.0.1", 1), follow_redirects=False).get(
        "/signin", params={"token": ann}).status_code == 303


def test_the_bearer_api_is_throttled_the_same(app_service):
    service, client = app_service()
    ann = service.tokens.issue("ann")
    wrong = [client.get("/api/submissions", headers=bearer(f"{i:016x}.{'x' * 43}"))
             for i in range(11)]
    assert [r.status_code for r in wrong] == [401] * 10 + [429]
    assert int(wrong[-1].headers["Retry-After"]) >= 1
    assert wrong[-1].json()["error"].startswith("token: expected the token of your personal link, "
                                                "got too many that are not valid")
    assert client.get("/api/submissions", headers=bearer(ann)).status_code == 200


def test_signing_out_needs_the_page_s_csrf_token(app_service):
    service, client = app_service()
    sign_in(client, service.tokens.issue("ann"))
    page = client.get("/me").text
    forged = client.post("/signout", data={})
    assert forged.status_code == 403 and "sign-out: expected the form of this page" in forged.text
    other_site = client.post("/signout", data={"csrf": csrf_of(page)},
                             headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    assert "set-cookie" not in other_site.headers
    assert client.get("/me").status_code == 200  # still signed in
    out = client.post("/signout", data={"csrf": csrf_of(page)})
    assert out.status_code == 303
    assert client.get("/me").status_code == 303


def test_opening_another_student_s_link_asks_before_switching(app_service):
    service, client = app_service()
    ann, bob = service.tokens.issue("ann"), service.tokens.issue("bob")
    sign_in(client, ann)
    asked = client.get("/signin", params={"token": bob})
    assert asked.status_code == 200
    assert re.search(r"You are signed in as <strong>ann</strong>\. The link you opened is the "
                     r"personal link of <strong>bob</strong>", asked.text), asked.text
    assert 'data-who>ann<' in client.get("/me").text  # nothing switched yet
    same = client.get("/signin", params={"token": ann})
    assert same.status_code == 303 and same.headers["location"] == "/me"
    switched = client.post("/signin", data={"token": bob, "csrf": csrf_of(asked.text, "switch")})
    assert switched.status_code == 303
    assert 'data-who>bob<' in client.get("/me").text


# --- grade again ----------------------------------------------------------------------------


def test_the_instructor_grades_a_failed_submission_again_with_a_csrf_checked_logged_form(
        app_service, released, caplog):
    from autograder.batch.jobs import RunResult

    service, client = app_service()
    failed = submitted(service, "ann", "images", released["images"],
                       failed="the grading process was killed by signal 9. It was tried 3 times; "
                              "ask your instructor.", job_key="f" * 64)
    service.ledger.store("ann", "images", RunResult("f" * 64, None, 1.0, 0.0, "here", "killed"))
    sign_in(client, service.tokens.issue("teacher", "instructor"))
    page = client.get("/instructor").text
    assert f'data-failed="{failed}"' in page and 'action="/instructor/grade-again"' in page
    forged = client.post("/instructor/grade-again", data={"submission": str(failed)})
    assert forged.status_code == 403 and service.queue.get(failed).state == "failed"
    student = TestClient(client.app, client=("10.1.1.5", 1), follow_redirects=False)
    sign_in(student, service.tokens.issue("ann"))
    assert student.post("/instructor/grade-again", data={
        "submission": str(failed), "csrf": csrf_of(student.get("/me").text)}).status_code == 404
    with caplog.at_level(logging.INFO, logger="autograder.serve"):
        again = client.post("/instructor/grade-again",
                            data={"submission": str(failed), "csrf": csrf_of(page)})
    assert again.status_code == 303 and again.headers["location"] == f"/instructor?again={failed}"
    row = service.queue.get(failed)
    assert (row.state, row.claims, row.reason) == ("waiting", 0, "")
    assert service.ledger.result("f" * 64) is None  # the stored failure does not answer again
    assert any(f"submission {failed} (ann, images) back in the queue to be graded again, asked "
               f"by teacher" in r.getMessage() for r in caplog.records)
    notice = client.get(again.headers["location"]).text
    assert f"Submission #{failed} is back in the queue" in notice
    twice = client.post("/instructor/grade-again", data={"submission": str(failed),
                                                        "csrf": csrf_of(page)})
    assert twice.status_code == 404 and "expected a failed submission" in twice.text


def test_cnnkit_grade_again_puts_back_a_student_s_failed_submissions(app_service, released, repo):
    import io

    from rich.console import Console

    from autograder.cli.main import main

    service, _ = app_service()
    ann = submitted(service, "ann", "images", released["images"], failed="broke")
    bob = submitted(service, "bob", "images", released["images"], failed="broke")
    out = io.StringIO()
    assert main(["grade-again", "--student", "ann", "--course", str(repo), "--db-url",
                 service.db_url], console=Console(file=out, width=200)) == 0
    assert f"1 submission(s) (#{ann})" in out.getvalue()
    assert service.queue.get(ann).state == "waiting" and service.queue.get(bob).state == "failed"


# --- words for their reader -----------------------------------------------------------------


def test_refusals_of_a_notebook_speak_to_the_student(app_service, released):
    service, client = app_service()
    token = service.tokens.issue("ann")
    stripped = json.loads(released["images"])
    stripped["cells"][0]["metadata"]["nbgrader"] = "broken"
    cases = [b"", b"{ cut short", b"[1, 2]", json.dumps(stripped).encode(),
             b'{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, '
             b'"metadata": {}}']
    for data in cases:
        error = upload(client, token, "images", data).json()["error"]
        assert error.startswith("notebook: expected"), error
        assert "the student" not in error and "ask for" not in error, error
        assert re.search(r"(Open|open) it in Jupyter, save it, and submit it again|put your "
                         r"answers into", error), error


def test_an_upload_over_the_limit_says_its_real_size(app_service):
    service, _client = app_service(max_upload=20 * 2**20)
    token = service.tokens.issue("ann")
    error = service.acceptor.upload
    from autograder.serve.admission import Refusal

    with pytest.raises(Refusal) as refused:
        error("ann", "images", "images.ipynb", b" " * (20 * 2**20 + 100))
    assert refused.value.message.startswith("file: expected at most 20971520 bytes (20480 KB), "
                                            "got 20971620 bytes. Clear the outputs")
    with pytest.raises(Refusal) as refused:
        error("ann", "images", "images.ipynb", b" " * (30 * 2**20))
    assert "expected at most 20480 KB, got 30720 KB" in refused.value.message
    assert token


def test_pages_say_the_course_id_offer_open_assignments_and_keep_the_choice(app_service, released):
    now = datetime.now(UTC)
    service, client = app_service(deadlines=[
        Deadline("images", "Images", now - timedelta(days=2), now - timedelta(days=1)),
        Deadline("pooling", "Pooling", now - timedelta(hours=1), now + timedelta(days=1))])
    token = service.tokens.issue("ann")
    sign_in(client, token)
    page = client.get("/me").text
    assert '<a class="brand" href="/">cnn-test-course: autograding</a>' in page
    assert 'option value="images"' not in page and 'option value="pooling"' in page
    assert "closed at" in page and "past the due date; closes at" in page
    assert "penalty" not in page  # the course sets none
    assert [a["id"] for a in client.get("/api/assignments", headers=bearer(token)).json()] == \
        ["pooling"]
    refused = client.post("/upload", data={"assignment": "pooling", "csrf": csrf_of(page)},
                          files={"notebook": ("pooling.ipynb", released["images"])})
    assert refused.status_code == 400
    assert '<option value="pooling" selected>' in refused.text


def test_late_text_only_when_the_course_sets_a_penalty(app_service, released):
    for penalised, expected in ((False, "Submitted 2 h after the due date."),
                                (True, "Submitted 2 h after the due date: the course's late "
                                       "penalty applies (1 point(s) taken off).")):
        service, client = app_service(late_penalty=penalised)
        token = service.tokens.issue("ann")
        receipt = service.queue.accept(student="ann", assignment="images", source="web",
                                       origin="x", files={"images.ipynb": released["images"]},
                                       timestamp="t", received=datetime.now(UTC),
                                       late_seconds=7200.0)
        service.queue.claim(receipt.id)
        result = graded()
        service.queue.finish(receipt.id, dataclasses.replace(result, penalty=1.0))
        shown = client.get(f"/api/submissions/{receipt.id}", headers=bearer(token)).json()
        assert shown["late"] == expected


def test_the_instructor_s_view_of_a_submission_speaks_to_the_instructor(app_service, released):
    service, client = app_service()
    done = submitted(service, "ann", "images", released["images"], graded=graded())
    sign_in(client, service.tokens.issue("ann"))
    own = client.get(f"/submissions/{done}").text
    assert "Your latest graded attempt counts for your grade." in own
    teacher = TestClient(client.app, client=("10.1.1.7", 1), follow_redirects=False)
    sign_in(teacher, service.tokens.issue("teacher", "instructor"))
    page = teacher.get(f"/submissions/{done}").text
    assert "The student&#39;s latest graded attempt counts for the grade." in page
    assert "Your latest" not in page


def test_terminal_escapes_in_a_test_message_are_shown_as_escapes(app_service, released):
    service, client = app_service()
    token = service.tokens.issue("ann")
    done = submitted(service, "ann", "images", released["images"],
                     graded=graded(message="AssertionError: \x1b[31mshape\x1b[0m is \u202ewrong"))
    sign_in(client, token)
    page = client.get(f"/submissions/{done}").text
    assert "\x1b" not in page and "\u202e" not in page
    assert r"AssertionError: \x1b[31mshape\x1b[0m is \u202ewrong" in page
    api = client.get(f"/api/submissions/{done}", headers=bearer(token)).json()
    assert api["tests"][0]["message"] == r"AssertionError: \x1b[31mshape\x1b[0m is \u202ewrong"


def test_a_result_reused_from_another_student_is_not_revealed_and_is_flagged(app_service, released):
    from autograder.serve.exports import outcome

    service, client = app_service()
    ann = submitted(service, "ann", "images", released["images"], graded=graded())
    flag = (f"similar to other students' work: byte for byte the same notebook as #{ann} (ann). "
            f"Compare the notebooks before the grade counts.")
    copied = graded(flags=[flag])
    bob = submitted(service, "bob", "images", released["images"],
                    graded=dataclasses.replace(copied, how="reused"))
    bob_token = service.tokens.issue("bob")
    shown = client.get(f"/api/submissions/{bob}", headers=bearer(bob_token)).json()
    assert re.fullmatch(r"Graded at \S+ \S+ UTC\.", shown["state_text"]), shown["state_text"]
    assert "ann" not in json.dumps(shown) and "similar" not in json.dumps(shown)
    sign_in(client, bob_token)
    page = client.get(f"/submissions/{bob}").text
    assert "(ann)" not in page and "similar" not in page and "byte for byte" not in page
    # The student's own identical resubmission may say so.
    again = submitted(service, "bob", "images", released["images"],
                      graded=dataclasses.replace(copied, how="reused"))
    assert f"the same notebook as your submission #{bob}" in client.get(
        f"/api/submissions/{again}", headers=bearer(bob_token)).json()["state_text"]
    teacher = TestClient(client.app, client=("10.1.1.8", 1), follow_redirects=False)
    sign_in(teacher, service.tokens.issue("teacher", "instructor"))
    overview = teacher.get("/instructor").text
    flagged = overview[overview.index('id="flagged"'):overview.index('id="refused"')]
    assert f"#{again}" in flagged and f"byte for byte the same notebook as #{ann} (ann)" in flagged
    assert outcome(service.queue.get(bob)).review == (flag,)  # grades.csv's review column


def test_the_instructor_page_and_the_class_report_agree_on_failures_and_flags(app_service,
                                                                               released, tmp_path):
    from autograder.serve.exports import Exports

    service, client = app_service()
    data = released["images"]
    replaced = submitted(service, "ann", "images", data, failed="the notebook failed.")
    submitted(service, "ann", "images", data, graded=graded())
    bob = submitted(service, "bob", "images", data, failed="the kernel died.",
                    flags=["a flag of a failure"])
    cat = submitted(service, "cat", "images", data, graded=graded(flags=["similar to ..."]))
    sign_in(client, service.tokens.issue("teacher", "instructor"))
    page = client.get("/instructor").text

    def section(start: str, end: str) -> str:
        return page[page.index(f'id="{start}"'):page.index(f'id="{end}"')]

    assert re.findall(r'data-failed="(\d+)"', section("failed", "failed-replaced")) == [str(bob)]
    assert re.findall(r'data-failed="(\d+)"', section("failed-replaced", "flagged")) == [
        str(replaced)]
    assert re.findall(r'href="/submissions/(\d+)"', section("flagged", "refused")) == [
        str(cat), str(bob)]
    exports = Exports(service.queue, tmp_path, rule=service.settings.counts, title="t",
                      budget="cpu", workers=1)
    outcomes = exports.write()
    assert {o.student for o in outcomes if o.status == "failed"} == {"bob"}
    assert {o.student for o in outcomes if o.review} == {"bob", "cat"}
    report = exports.report_html.read_text(encoding="utf-8")
    assert "No submission failed" not in report and "the kernel died." in report
    assert "similar to ..." in report and "a flag of a failure" in report


def test_a_waiting_or_running_submission_says_how_long_grading_takes_here(app_service, released):
    service, client = app_service()
    token = service.tokens.issue("ann")
    sign_in(client, token)
    # Before any graded run of the assignment there is no figure to give.
    first = submitted(service, "ann", "pooling", released["pooling"])
    assert client.get(f"/api/submissions/{first}", headers=bearer(token)).json()["state_text"] == (
        "Waiting to be graded: next in line.")
    for seconds in (80.0, 100.0, 130.0):  # three graded runs of images, by other students
        done = submitted(service, f"other-{seconds:g}", "images", released["images"],
                         graded=dataclasses.replace(graded(), run_seconds=seconds))
        assert service.queue.get(done).state == "done"
    # Reused results took no run: they do not count.
    submitted(service, "copier", "images", released["images"],
              graded=dataclasses.replace(graded(), how="reused", run_seconds=0.1))
    assert service.queue.typical_seconds("images") == (100.0, 3)
    waiting = submitted(service, "ann", "images", released["images"])
    text = client.get(f"/api/submissions/{waiting}", headers=bearer(token)).json()["state_text"]
    assert text == ("Waiting to be graded (1 submission(s) ahead of it). Graded runs of images take "
                    "about 1 min 40 s here (the median of the last 3).")
    service.queue.claim(waiting)
    text = client.get(f"/api/submissions/{waiting}", headers=bearer(token)).json()["state_text"]
    assert re.fullmatch(r"Being graded since \S+ \S+ UTC \(\d+ s so far\)\. Graded runs of images take "
                        r"about 1 min 40 s here \(the median of the last 3\)\.", text), text
    page = client.get(f"/submissions/{waiting}").text
    assert "so far). Graded runs of images take about 1 min 40 s here" in page
    # Long past the usual time, the page says so.
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with service.engine.begin() as db:
        db.exec_driver_sql("update cnnkit_serve_submission set claimed_at = ? where id = ?",
                           (long_ago.replace(tzinfo=None).isoformat(sep=" "), waiting))
    text = client.get(f"/api/submissions/{waiting}", headers=bearer(token)).json()["state_text"]
    assert "(10 min so far)" in text, text
    assert text.endswith("This one is taking longer than most; the page updates by itself."), text
