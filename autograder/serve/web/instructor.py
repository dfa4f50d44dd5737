"""The instructor's pages: the live overview, the class's ``grades.csv`` and report, and "grade
again" for a failed submission.

Only a session signed in with the instructor's token gets them; anyone else gets 404, as for a
page that does not exist.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from autograder.serve import stats
from autograder.serve.deadlines import stamp
from autograder.serve.queue import parse_id
from autograder.serve.tables import now
from autograder.serve.tokens import same
from autograder.serve.web.pages import not_found, read_form, session_of, signed_in
from autograder.serve.web.render import page
from autograder.serve.web.security import SANDBOX_POLICY, same_origin

#: Seconds between reloads of the overview.
REFRESH = 5


def _instructor(request: Request):
    session = session_of(request)
    return session if session is not None and session.principal.is_instructor else None


def overview(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    """``GET /instructor``: queue, running jobs, times, failures (each with "grade again"),
    flags, refusals, links."""
    session = session_of(request)
    if session is None:
        return RedirectResponse("/", 303)
    if not session.principal.is_instructor:
        return not_found(request, session)
    again = parse_id(request.query_params.get("again"))
    notice = (f"Submission #{again} is back in the queue; it is graded again as soon as a "
              f"worker is free." if again and error is None else None)
    service = request.app.state.service
    found = stats.overview(service.queue.rows(), service.queue.exchange_refusals(),
                           rule=service.settings.counts)
    times = [("waiting (accepted to started)", found.waiting_time),
             ("grading (started to feedback)", found.grading_time),
             ("upload to feedback", found.feedback_time)]
    return page(request, "instructor.html", status, **signed_in(session), o=found, times=times,
                refresh=REFRESH, updated=stamp(now()), since=stamp(found.since) if found.since else "",
                where=service.where, flags=lambda row: json.loads(row.flags or "[]"),
                error=error, notice=notice)


async def grade_again(request: Request) -> Response:
    """``POST /instructor/grade-again`` (``submission``, ``csrf``): put a failed submission back
    in the queue, its tries cleared; logged with who asked."""
    session = await run_in_threadpool(session_of, request)
    if session is None or not session.principal.is_instructor:
        return await run_in_threadpool(not_found, request, session)
    form = await read_form(request, max_files=0)
    if not same_origin(request) or not same(str(form.get("csrf", "")), session.csrf):
        return await run_in_threadpool(lambda: overview(request, status=403, error=(
            "grade again: expected the form of this page, got a post without its check (an old "
            "page, or another site). Reload the page and try again.")))
    submission_id = parse_id(str(form.get("submission", "")))
    service = request.app.state.service
    again = (await run_in_threadpool(service.grade_again, [submission_id],
                                     session.principal.student) if submission_id else [])
    if not again:
        shown = str(form.get("submission", ""))[:40]
        return await run_in_threadpool(lambda: overview(request, status=404, error=(
            f"grade again: expected a failed submission, got {shown!r}, which is not one (graded "
            f"meanwhile, or put back already). Reload the page.")))
    return RedirectResponse(f"/instructor?again={again[0]}", 303)


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
