"""The HTTP API, for courses that script their uploads: ``Authorization: Bearer <token>``.

- ``GET /api/assignments``: the assignments open for submission, with their dates.
- ``POST /api/submissions`` (multipart: ``assignment``, ``notebook``): 202 and the receipt.
- ``GET /api/submissions``: the caller's submissions, newest first.
- ``GET /api/submissions/{id}``: one of them: its state, scores, messages and lateness.

Every refusal is ``{"error": "<one sentence>"}`` with its status; another student's submission
answers 404, as one that does not exist.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from autograder.serve.checks import Refusal
from autograder.serve.tokens import Principal
from autograder.serve.web import views


def _principal(request: Request) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    return request.app.state.service.tokens.verify(auth[7:].strip())


def _refuse(status: int, message: str, retry_after: float | None = None) -> Response:
    headers = {"Retry-After": str(int(retry_after) + 1)} if retry_after else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


_NO_TOKEN = ("token: expected 'Authorization: Bearer <token>' with the token of your personal "
             "link, got {}. Ask your instructor for a link.")


def _who(request: Request) -> Principal | Response:
    principal = _principal(request)
    if principal is None:
        got = "a token that is not valid" if request.headers.get("authorization") else "none"
        return _refuse(401, _NO_TOKEN.format(got))
    return principal


def assignments(request: Request) -> Response:
    """``GET /api/assignments``."""
    found = _who(request)
    if isinstance(found, Response):
        return found
    return JSONResponse(views.assignments_json(request.app.state.service.deadlines.open()))


async def submit(request: Request) -> Response:
    """``POST /api/submissions``."""
    found = await run_in_threadpool(_who, request)
    if isinstance(found, Response):
        return found
    form = await request.form(max_files=1, max_fields=5)
    file = form.get("notebook")
    data = await file.read() if hasattr(file, "read") else b""
    try:
        receipt = await run_in_threadpool(request.app.state.service.acceptor.upload, found.student,
                                          str(form.get("assignment", "")) or None,
                                          getattr(file, "filename", None), data)
    except Refusal as refusal:
        return _refuse(refusal.status, refusal.message, refusal.retry_after)
    return JSONResponse({**receipt.to_dict(), "url": f"/api/submissions/{receipt.id}"},
                        status_code=202)


def submissions(request: Request) -> Response:
    """``GET /api/submissions``."""
    found = _who(request)
    if isinstance(found, Response):
        return found
    service = request.app.state.service
    rows = service.queue.of_student(found.student)
    counted = {a: views.counted_id([r for r in rows if r.assignment == a], service.settings.counts)
               for a in {r.assignment for r in rows}}
    return JSONResponse([views.attempt(r, counted=counted[r.assignment]) for r in rows])


def submission(request: Request) -> Response:
    """``GET /api/submissions/{id}``."""
    found = _who(request)
    if isinstance(found, Response):
        return found
    service = request.app.state.service
    try:
        row = service.queue.get(int(request.path_params["submission_id"]))
    except ValueError:
        row = None
    if row is None or not (found.is_instructor or row.student == found.student):
        return _refuse(404, "submission: expected one of yours, got one that does not exist or is "
                            "not yours.")
    rows = service.queue.of_student(row.student, row.assignment)
    waiting = service.queue.waiting() if row.state == "waiting" else []
    shown = views.attempt(row, counted=views.counted_id(rows, service.settings.counts),
                          ahead=views.queue_position(row, waiting))
    shown["feedback_url"] = f"/submissions/{row.id}/feedback" if row.state == "done" else None
    return JSONResponse(shown)
