"""The web app of ``cnnkit serve`` (Starlette on uvicorn): the routes and the layers every
request passes, outermost first (:mod:`.security`):

1. security headers on every response;
2. the rate limit (429);
3. the upload size limit (413).

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
``GET /instructor/grades.csv``          the class's grades (instructor only)
``GET /instructor/report.html``         the class report, sandboxed (instructor only)
``GET /api/...``                        the API (:mod:`.api`)
``GET /healthz``                        ``ok`` while the service runs, and whether it grades yet
======================================  =====================================================
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autograder.serve.ratelimit import Buckets
from autograder.serve.web import api, instructor, pages
from autograder.serve.web.security import (
    MULTIPART_OVERHEAD,
    BodyLimit,
    BodyTooLarge,
    RateLimit,
    SecurityHeaders,
    too_large,
)


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

    async def body_too_large(request: Request, exc: Exception) -> Response:
        return too_large(limit, request.scope)

    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={BodyTooLarge: body_too_large})
    app.state.service = service
    return app
