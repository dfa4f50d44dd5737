"""The HTTP API, for courses that script their uploads: ``Authorization: Bearer <token>``.

- ``GET /api/assignments``: the assignments taking submissions, with their dates.
- ``POST /api/submissions`` (multipart: ``assignment``, ``notebook``): 202 and the receipt.
- ``GET /api/submissions``: the caller's submissions, newest first.
- ``GET /api/submissions/{id}``: one of them: its state, scores, messages and lateness.

Every refusal is ``{"error": "<one sentence>"}`` with its status, a body that cannot be read
included (400); another student's submission answers 404, as one that does not exist. Wrong
tokens are counted per address and per token (:class:`~autograder.serve.ratelimit.Failures`):
past ten in a minute they answer 429 with ``Retry-After``, while a valid token is always taken.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from autograder.serve.admission import Refusal
from autograder.serve.queue import parse_id
from autograder.serve.tables import now
from autograder.serve.tokens import Principal
from autograder.serve.web import views
from autograder.serve.web.security import client_address, retry_after


def _refuse(status: int, message: str, wait: float | None = None) -> Response:
    headers = {"Retry-After": retry_after(wait)} if wait else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": message}, status_code=status, headers=headers)


_NO_TOKEN = ("token: expected 'Authorization: Bearer <token>' with the token of your personal "
             "link, got {}. Ask your instructor for a link.")

_TOO_MANY = ("token: expected the token of your personal link, got too many that are not valid "
             "from this address or for this token. Wait {} s and try again with the latest link "
             "your instructor sent.")


def _who(request: Request) -> Principal | Response:
    """Whose the request's bearer token is, or the refusal (401, or 429 past the failures)."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    service = request.app.state.service
    principal = service.tokens.verify(token) if token else None
    if principal is not None:
        return principal
    wait = service.failures.failed(client_address(request.scope), token)
    if wait:
        return _refuse(429, _TOO_MANY.format(retry_after(wait)), wait)
    return _refuse(401, _NO_TOKEN.format("a token that is not valid" if auth else "none"))


def assignments(request: Request) -> Response:
    """``GET /api/assignments``."""
    found = _who(request)
    if isinstance(found, Response):
        return found
    return JSONResponse(views.assignments_json(request.app.state.service.deadlines.open(), now()))


async def submit(request: Request) -> Response:
    """``POST /api/submissions``."""
    found = await run_in_threadpool(_who, request)
    if isinstance(found, Response):
        return found
    try:
        form = await request.form(max_files=1, max_fields=5)
    except HTTPException as exc:  # a multipart body that cannot be read
        return _refuse(400, f"upload: expected a multipart/form-data body with the fields "
                            f"assignment and notebook, got one that cannot be read ({exc.detail}). "
                            f"Send the notebook as the file field 'notebook'.")
    file = form.get("notebook")
    data = await file.read() if isinstance(file, UploadFile) else b""
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
    return JSONResponse([views.attempt(r, counted=counted[r.assignment],
                                       history=[h for h in rows if h.assignment == r.assignment],
                                       penalised=service.late_penalty) for r in rows])


def submission(request: Request) -> Response:
    """``GET /api/submissions/{id}``."""
    found = _who(request)
    if isinstance(found, Response):
        return found
    service = request.app.state.service
    submission_id = parse_id(request.path_params["submission_id"])
    row = service.queue.get(submission_id) if submission_id is not None else None
    if row is None or not (found.is_instructor or row.student == found.student):
        return _refuse(404, "submission: expected one of yours, got one that does not exist or is "
                            "not yours.")
    rows = service.queue.of_student(row.student, row.assignment)
    waiting = service.queue.waiting() if row.state == "waiting" else []
    pending = row.state in ("waiting", "running")
    shown = views.attempt(row, counted=views.counted_id(rows, service.settings.counts),
                          ahead=views.queue_position(row, waiting), history=rows,
                          penalised=service.late_penalty,
                          typical=service.queue.typical_seconds(row.assignment) if pending else None,
                          moment=now())
    shown["feedback_url"] = f"/submissions/{row.id}/feedback" if row.state == "done" else None
    return JSONResponse(shown)
