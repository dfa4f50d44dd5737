"""Pages from Jinja2 templates with autoescape on: every piece of text, from the submissions
or anywhere else, is escaped unless a template says otherwise (none does)."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from autograder.serve.deadlines import stamp
from autograder.serve.tables import as_utc
from autograder.serve.web.views import readable

TEMPLATES = Path(__file__).parent / "templates"

ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined)


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


ENVIRONMENT.globals.update(stamp=lambda moment: stamp(as_utc(moment)) if moment else "",
                           seconds=_seconds, readable=readable)

#: What every page's base template reads; each page adds its own.
BASE = {"refresh": None, "who": None, "instructor": False, "csrf": "", "error": None, "notice": None}


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """``template`` rendered with ``context`` over :data:`BASE`."""
    service = request.app.state.service
    values = {**BASE, "course": service.course_name, **context}
    return HTMLResponse(ENVIRONMENT.get_template(template).render(values), status_code=status_code)
