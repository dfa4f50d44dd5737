"""The web app of ``cnnkit serve`` (Starlette on uvicorn): the routes and the layers every
request passes, outermost first (:mod:`.security`):

1. security headers on every response;
2. the rate limit (429);
3. the upload size limit (413, and the connection closed).

Every request that is not served answers 4xx with a reason, JSON on the API and a page
elsewhere: an unknown path (404), a method a path does not take (405), a body that cannot be read
(400). A client that goes away in the middle of its request is noted in the log, without a
traceback.

Routes (pages in :mod:`.pages` and :mod:`.instructor`, the JSON API in :mod:`.api`):

======================================  =====================================================
``GET /``                               sign-in form, or a redirect to your page
``GET /signin?token=...``               the personal link: signs in, redirects to your page
``POST /signin``                        the token typed into the form (CSRF-checked)
``POST /signout``                       sign out (CSRF-checked)
``GET /me``                             your assignments, the upload form, your attempts
``POST /upload``                        upload a notebook (multipart, CSRF-checked)
``GET /submissions/{id}``               receipt, state, scores, messages, feedback
``GET /submissions/{id}/feedback``      nbgrader's feedback page, sandboxed
``GET /instructor``                     the live overview (instructor only)
``POST /instructor/grade-again``        put a failed submission back in the queue (CSRF-checked)
``GET /instructor/grades.csv``          the class's grades (instructor only)
``GET /instructor/report.html``         the class report, sandboxed (instructor only)
``GET /api/...``                        the API (:mod:`.api`)
``GET /healthz``                        ``ok`` while the service runs, and whether it grades yet
======================================  =====================================================

The web modules may import Starlette, Jinja2 and the service's own modules (the queue, tokens,
admission, deadlines, tables); from the rest of the kit only what the pages show
(:mod:`autograder.batch.export`'s number format). They run no grading.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from autograder.extras import missing

try:  # the service is an extra of the kit: say which, rather than Starlette's own import error
    import python_multipart  # noqa: F401  (Starlette reads the upload forms with it)
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
except ImportError as error:
    raise missing("cnnkit serve", error.name or "starlette", "serve") from error

from autograder.serve.ratelimit import Buckets
from autograder.serve.web import api, instructor, pages
from autograder.serve.web.render import page
from autograder.serve.web.security import (
    MULTIPART_OVERHEAD,
    BodyLimit,
    RateLimit,
    SecurityHeaders,
    client_address,
    is_api,
)

log = logging.getLogger(__name__)


def _refusal_text(request: Request, exc: HTTPException) -> str:
    """What a refusal of Starlette's own (no such path, a method it does not take, a body that
    cannot be read) says, in the kit's one shape."""
    path = request.scope.get("path", "")[:80]
    if exc.status_code == 404:
        return (f"path: expected one of this service's pages, got {path!r}. Start from the start "
                f"page." if not is_api(request.scope) else
                f"path: expected one of the API's (/api/assignments, /api/submissions), got "
                f"{path!r}.")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return (f"method: expected {allowed or 'another method'} for {path!r}, got "
                f"{request.method}.")
    detail = str(exc.detail)
    if "expected" in detail:  # already one of the kit's sentences
        return detail
    return f"request: expected one this service can read, got one that it cannot ({detail})."


async def refused(request: Request, exc: HTTPException) -> Response:
    """An :class:`HTTPException` answered in the asker's format: JSON on the API, a page
    elsewhere."""
    message = _refusal_text(request, exc)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    if is_api(request.scope):
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)
    session = await run_in_threadpool(pages.session_of, request)
    return await run_in_threadpool(
        lambda: page(request, "error.html", exc.status_code, status=exc.status_code,
                     heading="Not found" if exc.status_code == 404 else "Not taken",
                     error=message, **(pages.signed_in(session) if session else {})))


async def went_away(request: Request, exc: Exception) -> Response:
    """A client that disconnected in the middle of its request: a line in the log, no traceback
    (nobody reads the answer)."""
    log.info("%s %s: the client went away before its request was read (%s)", request.method,
             request.scope.get("path", ""), client_address(request.scope))
    return Response(status_code=400)


def healthz(request: Request) -> Response:
    """``ok``, and whether the workers are ready (their first preparation done)."""
    ready = request.app.state.service.worker.ready.is_set()
    return JSONResponse({"status": "ok", "grading": "ready" if ready else "warming up"})


def make_app(service) -> Starlette:
    """The web app of ``service`` (a :class:`autograder.serve.service.Service`)."""
    settings = service.settings
    routes = [
        Route("/", pages.home),
        Route("/signin", pages.signin_link, methods=["GET"]),
        Route("/signin", pages.signin_form, methods=["POST"]),
        Route("/signout", pages.signout, methods=["POST"]),
        Route("/me", pages.me),
        Route("/upload", pages.upload, methods=["POST"]),
        Route("/submissions/{submission_id}", pages.submission),
        Route("/submissions/{submission_id}/feedback", pages.feedback),
        Route("/instructor", instructor.overview),
        Route("/instructor/grade-again", instructor.grade_again, methods=["POST"]),
        Route("/instructor/grades.csv", instructor.grades_csv),
        Route("/instructor/report.html", instructor.report_html),
        Route("/api/assignments", api.assignments),
        Route("/api/submissions", api.submit, methods=["POST"]),
        Route("/api/submissions", api.submissions, methods=["GET"]),
        Route("/api/submissions/{submission_id}", api.submission),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
    limit = settings.max_upload + MULTIPART_OVERHEAD
    per_minute = settings.rate_limit / 60
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(RateLimit, per_credential=Buckets(settings.rate_limit, per_minute),
                   per_address=Buckets(10 * settings.rate_limit, 10 * per_minute)),
        Middleware(BodyLimit, limit=limit),
    ]

    # Starlette types a handler as taking any Exception; these take the one they are for.
    handlers: dict[Any, Any] = {HTTPException: refused, ClientDisconnect: went_away}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.service = service
    return app
