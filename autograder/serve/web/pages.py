"""The student's pages: sign in, the overview with the upload form, one submission with its
scores and feedback, sign out.

A student sees only their own submissions: any other id answers 404, the same as an id that does
not exist, so the answer does not even tell whether it exists. The instructor sees them all.

Signing in: a wrong token is counted per address and per token
(:class:`~autograder.serve.ratelimit.Failures`), and past ten in a minute answered 429 with
``Retry-After``; a valid token is always taken, so that one student's typos do not lock out the
others behind the same address. Opening another person's link while signed in asks first.
Signing out is a form post with the session's CSRF token, like every other.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from autograder.serve.admission import Refusal
from autograder.serve.queue import parse_id
from autograder.serve.tables import now
from autograder.serve.tokens import Principal, Session, Sessions, same
from autograder.serve.web import views
from autograder.serve.web.render import page
from autograder.serve.web.security import (
    CSRF_COOKIE,
    FEEDBACK_POLICY,
    FRAMING_POLICY,
    client_address,
    csrf_cookie,
    retry_after,
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


def signin_page(request: Request, error: str | None = None, status: int = 200,
                wait: float | None = None) -> Response:
    """The sign-in form (``wait``: the seconds of a 429's ``Retry-After``)."""
    token = csrf_cookie(request)
    response = page(request, "signin.html", status, csrf=token, error=error)
    set_cookie(response, request, CSRF_COOKIE, token, 3600)
    if wait:
        response.headers["Retry-After"] = retry_after(wait)
    return response


def _who_of(principal: Principal) -> str:
    return f"{principal.student} (instructor)" if principal.is_instructor else principal.student


def switch_page(request: Request, session: Session, other: Principal, token: str) -> Response:
    """Signed in, and another person's link opened: ask before signing in as them."""
    csrf = csrf_cookie(request)
    response = page(request, "switch.html", **signed_in(session), signin_csrf=csrf, token=token,
                    current=_who_of(session.principal), other=_who_of(other))
    set_cookie(response, request, CSRF_COOKIE, csrf, 3600)
    return response


def _start_session(request: Request, token: str | None, *, confirmed: bool) -> Response:
    """Sign in with ``token``; unless ``confirmed``, a browser signed in as someone else is asked
    first."""
    service = request.app.state.service
    principal = service.tokens.verify(token)
    if principal is None:
        wait = service.failures.failed(client_address(request.scope), token)
        if wait:
            return signin_page(request, f"sign-in: expected the token of your personal link, got "
                                        f"too many that are not valid from this address or for "
                                        f"this token. Wait {retry_after(wait)} s and try again.",
                               429, wait)
        return signin_page(request, "sign-in: expected the token of your personal link, got one "
                                    "that is not valid (mistyped, or replaced by a newer link). "
                                    "Use the latest link your instructor sent.", 401)
    current = session_of(request)
    if current is not None and current.principal == principal:
        return RedirectResponse("/instructor" if principal.is_instructor else "/me", 303)
    if current is not None and not confirmed:
        return switch_page(request, current, principal, str(token).strip())
    session_id, _ = service.sessions.start(principal)
    response = RedirectResponse("/instructor" if principal.is_instructor else "/me", 303)
    set_cookie(response, request, Sessions.COOKIE, session_id,
               int(service.settings.session_hours * 3600))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def signin_link(request: Request) -> Response:
    """``GET /signin?token=...``: the personal link."""
    return _start_session(request, request.query_params.get("token"), confirmed=False)


async def signin_form(request: Request) -> Response:
    """``POST /signin``: the token typed into the form, or the answer to :func:`switch_page`."""
    form = await read_form(request, max_files=0)
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not same_origin(request) or not expected or not same(str(form.get("csrf", "")), expected):
        return signin_page(request, "sign-in: expected the form of this page, got a post without "
                                    "its check (an old page, or another site). Try again.", 403)
    return await run_in_threadpool(_start_session, request, str(form.get("token", "")),
                                   confirmed=True)


async def signout(request: Request) -> Response:
    """``POST /signout``: only with the session's CSRF token, so that another site cannot sign
    anyone out."""
    form = await read_form(request, max_files=0)
    session = await run_in_threadpool(session_of, request)
    if session is None:
        return RedirectResponse("/", 303)
    if not same_origin(request) or not same(str(form.get("csrf", "")), session.csrf):
        return await run_in_threadpool(
            lambda: page(request, "error.html", 403, status=403, heading="Not signed out",
                         error="sign-out: expected the form of this page, got a post without its "
                               "check (an old page, or another site). Use the Sign out button of "
                               "a page you reload.", **signed_in(session)))
    await run_in_threadpool(request.app.state.service.sessions.end,
                            request.cookies.get(Sessions.COOKIE))
    response = RedirectResponse("/", 303)
    response.delete_cookie(Sessions.COOKIE, path="/")
    return response


async def read_form(request: Request, *, max_files: int = 1):
    """The request's form, or :class:`~starlette.exceptions.HTTPException` (400) with a reason
    when its body cannot be read as one."""
    try:
        return await request.form(max_files=max_files, max_fields=5)
    except HTTPException as exc:
        raise HTTPException(400, f"form: expected the fields of this site's form, got a body that "
                                 f"cannot be read ({exc.detail}). Reload the page and send it "
                                 f"again.") from None


def me_page(request: Request, session: Session, *, error: str | None = None,
            notice: str | None = None, status: int = 200, selected: str | None = None) -> Response:
    """The student's page: assignments, the upload form (``selected``: the assignment chosen in
    it), the attempts."""
    service = request.app.state.service
    student = session.principal.student
    rows = service.queue.of_student(student)
    rule = service.settings.counts
    moment = now()
    assignments = [views.assignment_row(d, [r for r in rows if r.assignment == d.assignment],
                                        rule, moment, service.late_penalty)
                   for d in service.deadlines.open().values()]
    counted = {a["id"]: a["counted"] for a in assignments}
    attempts = [views.attempt(r, counted=counted.get(r.assignment), penalised=service.late_penalty)
                for r in rows]
    busy = any(not a["final"] for a in attempts)
    return page(request, "me.html", status, **signed_in(session), error=error, notice=notice,
                rule=views.rule_text(rule), assignments=assignments,
                offered=[a for a in assignments if a["open"]], selected=selected,
                attempts=attempts, refresh=5 if busy else None,
                max_upload_kb=service.settings.max_upload // 1024,
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
    try:
        form = await request.form(max_files=1, max_fields=5)
    except HTTPException as exc:  # a multipart body that cannot be read
        return await run_in_threadpool(me_page, request, session, error=(
            f"upload: expected the upload form's fields, got a body that cannot be read "
            f"({exc.detail}). Choose the notebook and upload it again."), status=400)
    if not same_origin(request) or not same(str(form.get("csrf", "")), session.csrf):
        return await run_in_threadpool(me_page, request, session, error=(
            "upload: expected the form of this page, got a post without its check (an old page, "
            "or another site). Reload the page and upload again."), status=403)
    file = form.get("notebook")
    data = await file.read() if isinstance(file, UploadFile) else b""
    filename = getattr(file, "filename", None)
    assignment = str(form.get("assignment", "")) or None
    try:
        receipt = await run_in_threadpool(service.acceptor.upload, session.principal.student,
                                          assignment, filename, data)
    except Refusal as refusal:
        response = await run_in_threadpool(me_page, request, session, error=refusal.message,
                                           status=refusal.status, selected=assignment)
        if refusal.retry_after:
            response.headers["Retry-After"] = retry_after(refusal.retry_after)
        return response
    return RedirectResponse(f"/submissions/{receipt.id}", 303)


def _visible(request: Request, session: Session | None):
    """The submission of the path if the session may see it (its student, or the instructor)."""
    submission_id = parse_id(request.path_params["submission_id"])
    if session is None or submission_id is None:
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
    pending = row.state in ("waiting", "running")
    shown = views.attempt(row, counted=counted, ahead=views.queue_position(row, waiting),
                          history=rows, penalised=service.late_penalty,
                          typical=service.queue.typical_seconds(row.assignment) if pending else None,
                          moment=now())
    instructor = session.principal.is_instructor
    shown_page = page(request, "submission.html", **signed_in(session), s=shown, counted=counted,
                      rule=views.rule_text(service.settings.counts, instructor=instructor),
                      owner=row.student if instructor else None,
                      flags=json.loads(row.flags or "[]") if instructor else [],
                      back="/instructor" if instructor else "/me",
                      has_feedback=row.state == "done", refresh=None if shown["final"] else 3)
    if row.state == "done":
        shown_page.headers["Content-Security-Policy"] = FRAMING_POLICY
    return shown_page


def feedback(request: Request) -> Response:
    """``GET /submissions/{id}/feedback``: nbgrader's feedback page, sandboxed."""
    session = session_of(request)
    row = _visible(request, session)
    html = request.app.state.service.queue.feedback_html(row.id) if row is not None else None
    if html is None:
        return not_found(request, session)
    return Response(views.fitted_feedback(html), media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": FEEDBACK_POLICY,
                             "X-Frame-Options": "SAMEORIGIN"})
