"""The student's pages: sign in, the overview with the upload form, one submission with its
scores and feedback, sign out.

A student sees only their own submissions: any other id answers 404, the same as an id that does
not exist, so the answer does not even tell whether it exists. The instructor sees them all.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from autograder.serve.checks import Refusal
from autograder.serve.tables import now
from autograder.serve.tokens import Session, Sessions, same
from autograder.serve.web import views
from autograder.serve.web.render import page
from autograder.serve.web.security import (
    CSRF_COOKIE,
    SANDBOX_POLICY,
    csrf_cookie,
    same_origin,
    set_cookie,
)


def session_of(request: Request) -> Session | None:
    """The signed-in session of the request, if any."""
    return request.app.state.service.sessions.find(request.cookies.get(Sessions.COOKIE))


def signed_in(session: Session) -> dict:
    """What the base template shows of a session."""
    return {"who": session.principal.student, "instructor": session.principal.is_instructor,
            "csrf": session.csrf}


def not_found(request: Request, session: Session | None = None) -> Response:
    return page(request, "error.html", 404, status=404, heading="Not found",
                error="page: expected one of yours, got one that does not exist or is not yours.",
                **(signed_in(session) if session else {}))


def home(request: Request) -> Response:
    """The start page: the sign-in form, or the student's page when signed in."""
    session = session_of(request)
    if session is not None:
        return RedirectResponse("/instructor" if session.principal.is_instructor else "/me", 303)
    return signin_page(request)


def signin_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = csrf_cookie(request)
    response = page(request, "signin.html", status, csrf=token, error=error)
    set_cookie(response, request, CSRF_COOKIE, token, 3600)
    return response


def _start_session(request: Request, token: str | None) -> Response:
    service = request.app.state.service
    address = (request.client.host if request.client else "unknown")
    if service.signin_failures.wait(address):
        return signin_page(request, "sign-in: expected a valid token, got too many wrong ones from "
                                    "this address. Wait a minute and try again.", 429)
    principal = service.tokens.verify(token)
    if principal is None:
        service.signin_failures.take(address)
        return signin_page(request, "sign-in: expected the token of your personal link, got one "
                                    "that is not valid (mistyped, or replaced by a newer link). "
                                    "Use the latest link your instructor sent.", 401)
    session_id, _ = service.sessions.start(principal)
    response = RedirectResponse("/instructor" if principal.is_instructor else "/me", 303)
    set_cookie(response, request, Sessions.COOKIE, session_id,
               int(service.settings.session_hours * 3600))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def signin_link(request: Request) -> Response:
    """``GET /signin?token=...``: the personal link."""
    return _start_session(request, request.query_params.get("token"))


async def signin_form(request: Request) -> Response:
    """``POST /signin``: the token typed into the form."""
    form = await request.form(max_files=0, max_fields=5)
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not same_origin(request) or not expected or not same(str(form.get("csrf", "")), expected):
        return signin_page(request, "sign-in: expected the form of this page, got a post without "
                                    "its check (an old page, or another site). Try again.", 403)
    return await run_in_threadpool(_start_session, request, str(form.get("token", "")))


async def signout(request: Request) -> Response:
    """``POST /signout``."""
    form = await request.form(max_files=0, max_fields=5)
    session = await run_in_threadpool(session_of, request)
    if session is not None and same_origin(request) and same(str(form.get("csrf", "")), session.csrf):
        await run_in_threadpool(request.app.state.service.sessions.end,
                                request.cookies.get(Sessions.COOKIE))
    response = RedirectResponse("/", 303)
    response.delete_cookie(Sessions.COOKIE, path="/")
    return response


def me_page(request: Request, session: Session, *, error: str | None = None,
            notice: str | None = None, status: int = 200) -> Response:
    """The student's page: assignments, the upload form, the attempts."""
    service = request.app.state.service
    student = session.principal.student
    rows = service.queue.of_student(student)
    rule = service.settings.counts
    moment = now()
    assignments = [views.assignment_row(d, [r for r in rows if r.assignment == d.assignment],
                                        rule, moment)
                   for d in service.deadlines.open().values()]
    counted = {a["id"]: a["counted"] for a in assignments}
    attempts = [views.attempt(r, counted=counted.get(r.assignment)) for r in rows]
    busy = any(not a["final"] for a in attempts)
    return page(request, "me.html", status, **signed_in(session), error=error, notice=notice,
                rule=views.RULES[rule], assignments=assignments, attempts=attempts,
                refresh=5 if busy else None, max_upload_kb=service.settings.max_upload // 1024,
                attempts_per_hour=service.settings.attempts_per_hour)


def me(request: Request) -> Response:
    """``GET /me``."""
    session = session_of(request)
    if session is None:
        return RedirectResponse("/", 303)
    return me_page(request, session)


async def upload(request: Request) -> Response:
    """``POST /upload``: a notebook from the form; the receipt is the submission's page."""
    service = request.app.state.service
    session = await run_in_threadpool(session_of, request)
    if session is None:
        return await run_in_threadpool(signin_page, request, "upload: expected you to be signed in, "
                                                             "got no sign-in. Open your personal "
                                                             "link again.", 401)
    form = await request.form(max_files=1, max_fields=5)
    if not same_origin(request) or not same(str(form.get("csrf", "")), session.csrf):
        return await run_in_threadpool(me_page, request, session, error=(
            "upload: expected the form of this page, got a post without its check (an old page, "
            "or another site). Reload the page and upload again."), status=403)
    file = form.get("notebook")
    data = await file.read() if hasattr(file, "read") else b""
    filename = getattr(file, "filename", None)
    assignment = str(form.get("assignment", "")) or None
    try:
        receipt = await run_in_threadpool(service.acceptor.upload, session.principal.student,
                                          assignment, filename, data)
    except Refusal as refusal:
        response = await run_in_threadpool(me_page, request, session, error=refusal.message,
                                           status=refusal.status)
        if refusal.retry_after:
            response.headers["Retry-After"] = str(int(refusal.retry_after) + 1)
        return response
    return RedirectResponse(f"/submissions/{receipt.id}", 303)


def _visible(request: Request, session: Session | None):
    """The submission of the path if the session may see it (its student, or the instructor)."""
    if session is None:
        return None
    try:
        submission_id = int(request.path_params["submission_id"])
    except ValueError:
        return None
    row = request.app.state.service.queue.get(submission_id)
    if row is None or not (session.principal.is_instructor or row.student == session.principal.student):
        return None
    return row


def submission(request: Request) -> Response:
    """``GET /submissions/{id}``: the receipt, the state, the scores and the feedback."""
    service = request.app.state.service
    session = session_of(request)
    if session is None:
        return RedirectResponse("/", 303)
    row = _visible(request, session)
    if row is None:
        return not_found(request, session)
    rows = service.queue.of_student(row.student, row.assignment)
    counted = views.counted_id(rows, service.settings.counts)
    waiting = service.queue.waiting() if row.state == "waiting" else []
    shown = views.attempt(row, counted=counted, ahead=views.queue_position(row, waiting))
    instructor = session.principal.is_instructor
    return page(request, "submission.html", **signed_in(session), s=shown, counted=counted,
                rule=views.RULES[service.settings.counts],
                owner=row.student if instructor else None,
                flags=json.loads(row.flags or "[]") if instructor else [],
                back="/instructor" if instructor else "/me",
                has_feedback=row.state == "done", refresh=None if shown["final"] else 3)


def feedback(request: Request) -> Response:
    """``GET /submissions/{id}/feedback``: nbgrader's feedback page, sandboxed."""
    session = session_of(request)
    row = _visible(request, session)
    html = request.app.state.service.queue.feedback_html(row.id) if row is not None else None
    if html is None:
        return not_found(request, session)
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": SANDBOX_POLICY,
                             "X-Frame-Options": "SAMEORIGIN"})
