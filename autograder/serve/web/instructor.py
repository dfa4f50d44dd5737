"""The instructor's pages: the live overview, and the class's ``grades.csv`` and report.

Only a session signed in with the instructor's token gets them; anyone else gets 404, as for a
page that does not exist.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from autograder.serve import stats
from autograder.serve.deadlines import stamp
from autograder.serve.tables import now
from autograder.serve.web.pages import not_found, session_of, signed_in
from autograder.serve.web.render import page
from autograder.serve.web.security import SANDBOX_POLICY

#: Seconds between reloads of the overview.
REFRESH = 5


def _instructor(request: Request):
    session = session_of(request)
    return session if session is not None and session.principal.is_instructor else None


def overview(request: Request) -> Response:
    """``GET /instructor``: queue, running jobs, times, failures, flags, refusals, links."""
    session = session_of(request)
    if session is None:
        return RedirectResponse("/", 303)
    if not session.principal.is_instructor:
        return not_found(request, session)
    service = request.app.state.service
    found = stats.overview(service.queue.rows(), service.queue.exchange_refusals())
    times = [("waiting (accepted to started)", found.waiting_time),
             ("grading (started to feedback)", found.grading_time),
             ("upload to feedback", found.feedback_time)]
    return page(request, "instructor.html", **signed_in(session), o=found, times=times,
                refresh=REFRESH, updated=stamp(now()), since=stamp(found.since),
                where=service.where, flags=lambda row: json.loads(row.flags or "[]"))


def _file(request: Request, path, media_type: str, **headers) -> Response:
    if _instructor(request) is None:
        return not_found(request, session_of(request))
    if not path.is_file():
        return page(request, "error.html", 404, status=404, heading="Not written yet",
                    error=f"{path.name}: expected the file, got none yet. It is written a few "
                          f"seconds after the first submission is graded.")
    return FileResponse(path, media_type=media_type, headers=headers)


def grades_csv(request: Request) -> Response:
    """``GET /instructor/grades.csv``."""
    exports = request.app.state.service.exports
    return _file(request, exports.grades_csv, "text/csv; charset=utf-8",
                 **{"Content-Disposition": 'attachment; filename="grades.csv"'})


def report_html(request: Request) -> Response:
    """``GET /instructor/report.html``: the class report, sandboxed (it quotes submissions)."""
    exports = request.app.state.service.exports
    return _file(request, exports.report_html, "text/html; charset=utf-8",
                 **{"Content-Security-Policy": SANDBOX_POLICY})
