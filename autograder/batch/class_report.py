"""The class report: one self-contained HTML page on a batch run, for the instructor.

The page reads top to bottom as the questions an instructor asks after a run: how much was graded
and how (the counts), how each assignment went (a table and the score distribution), which tests
students fail (the pass rate per test), where the time went (the grading time per submission), and
what needs a person (failed submissions, tests left for manual grading).

It works offline and without JavaScript: the plots are inline SVG drawn by matplotlib without
pyplot, and the CSS is in the page. The page is a Jinja2 template
(:mod:`autograder.batch.class_report_page`) rendered with autoescape, and every value in it goes
through :func:`autograder.batch.sanitize.for_html`, since student ids and failure reasons come
from the submissions; only the plots' SVG is inserted as markup.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib
import numpy as np
from markupsafe import Markup, escape
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from autograder.authoring.course import UnknownAssignment, assignment
from autograder.batch.atomic import write_atomic
from autograder.batch.class_report_page import CSS, PAGE
from autograder.batch.export import (
    assignment_max_scores,
    assignment_order,
    assignment_rank,
    format_number,
    is_scored,
    percent,
    summarize_tests,
)
from autograder.batch.outcome import STATUSES, Outcome
from autograder.batch.review.problems import TEST_ERROR_NOTE
from autograder.batch.sanitize import escape_controls, for_html

#: Colours of the outcome statuses in the grading-time plot.
STATUS_COLORS = {"graded": "#1f77b4", "reused": "#2ca02c", "unchanged": "#7f7f7f",
                 "failed": "#d62728"}

#: matplotlib settings for the plots: text stays text in the SVG, and a ``$`` in a test id is not
#: read as mathematics.
_RC: dict[Any, Any] = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 9}

#: The columns of the table of assignments.
ASSIGNMENT_COLUMNS = ("Assignment", "Title", "Students", "Scored", "Failed", "Mean", "Median",
                      "Out of")

_ENVIRONMENT = jinja2.Environment(autoescape=True, finalize=for_html, trim_blocks=True,
                                  lstrip_blocks=True, keep_trailing_newline=True,
                                  undefined=jinja2.StrictUndefined)
_PAGE = _ENVIRONMENT.from_string(PAGE)


def write_class_report(outcomes: Sequence[Outcome], path: Path, *, title: str, budget: str,
                       workers: int, wall_seconds: float) -> Path:
    """Write the class report of a batch run to ``path`` as one HTML page; return ``path``.

    Args:
        outcomes: How each submission was graded.
        path: The HTML file to write; it is replaced at once, never left half written.
        title: The page's title, e.g. the course and the date.
        budget: The grading budget the run used.
        workers: How many workers graded in parallel.
        wall_seconds: The wall time of the whole run.
    """
    page = render_class_report(outcomes, title=title, budget=budget, workers=workers,
                               wall_seconds=wall_seconds)
    return write_atomic(Path(path), page)


def render_class_report(outcomes: Sequence[Outcome], *, title: str, budget: str, workers: int,
                        wall_seconds: float) -> str:
    """The class report as an HTML document; see :func:`write_class_report`."""
    failed = sum(o.status == "failed" for o in outcomes)
    untimed = sum(o.seconds is None for o in outcomes)
    plots = {
        "scores": _plot("plot-scores", "Score distribution per assignment", score_distribution_svg,
                        outcomes, _left_out_note(failed, "failed submission", "failed submissions")),
        "pass_rate": _plot("plot-pass-rate", "Pass rate per test", pass_rate_svg, outcomes,
                           "The fraction of scored submissions with full points on each test."),
        "time": _plot("plot-time", "Grading time per submission", grading_time_svg, outcomes,
                      _left_out_note(untimed, "submission without a measured time",
                                     "submissions without a measured time")),
    }
    return _PAGE.render(
        title=title, css=Markup(CSS), plots=plots,
        counts=_counts(outcomes, budget=budget, workers=workers, wall_seconds=wall_seconds),
        assignment_columns=ASSIGNMENT_COLUMNS, assignments=_assignment_rows(outcomes),
        failed=sorted((o for o in outcomes if o.status == "failed"), key=_row_order),
        attention=_attention_rows(outcomes))


# --- the plots ---------------------------------------------------------------------------------

@matplotlib.rc_context(_RC)
def score_distribution_svg(outcomes: Sequence[Outcome]) -> str:
    """A box and the individual scores, as percent of the points possible, per assignment;
    failed submissions are left out."""
    scores: dict[str, list[float]] = {}
    for outcome in outcomes:
        value = percent(outcome.score, outcome.max_score) if is_scored(outcome) else None
        if value is not None:
            scores.setdefault(outcome.assignment, []).append(value)
    order = assignment_order(scores)
    figure = Figure(figsize=(max(4.5, 1.3 * len(order) + 1.5), 3.6))
    ax = figure.add_subplot()
    if not order:
        _no_data(ax, "No scored submissions")
    else:
        values = [scores[a] for a in order]
        positions = np.arange(len(order))
        ax.boxplot(values, positions=positions, widths=0.5, showfliers=False,
                   medianprops={"color": "black"})
        jitter = np.random.default_rng(0)
        for x, assignment_id, points in zip(positions, order, values):
            ax.scatter(x + jitter.uniform(-0.15, 0.15, len(points)), points, s=16, alpha=0.7,
                       color=_assignment_color(assignment_id), zorder=3)
        ax.set_xticks(positions, [f"{_label(a)}\nn={len(v)}" for a, v in zip(order, values)])
        ax.set_ylim(-3, 103)
        ax.yaxis.set_major_formatter(PercentFormatter(100))
        ax.set_ylabel("score (% of points possible)")
        ax.grid(axis="y", alpha=0.3)
    return _svg(figure)


@matplotlib.rc_context(_RC)
def pass_rate_svg(outcomes: Sequence[Outcome]) -> str:
    """One bar per test, grouped by assignment: the fraction of scored submissions that got the
    test's full points."""
    summaries = [s for s in summarize_tests(outcomes) if s.students]
    figure = Figure(figsize=(7.5, max(2.4, 0.28 * len(summaries) + 1.2)))
    ax = figure.add_subplot()
    if not summaries:
        _no_data(ax, "No scored submissions")
        return _svg(figure)
    positions, y, previous = [], 0.0, None
    for summary in summaries:
        if previous is not None and summary.assignment != previous:
            y += 0.6  # a gap between assignments
        positions.append(y)
        previous, y = summary.assignment, y + 1
    rates = [s.pass_rate or 0.0 for s in summaries]  # never None: each has students
    ax.barh(positions, [1] * len(positions), height=0.75, color="#eeeeee")  # the 100% track
    ax.barh(positions, rates, height=0.75,
            color=[_assignment_color(s.assignment) for s in summaries])
    for pos, summary in zip(positions, summaries):
        label = f"{summary.full_points}/{summary.students}"
        if summary.needs_manual_grade:
            label += f", {summary.needs_manual_grade} by hand"
        ax.text(1.01, pos, label, va="center", fontsize=8)
    ax.set_yticks(positions, [_label(s.grade_id) for s in summaries])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xlabel("students with full points")
    ax.grid(axis="x", alpha=0.3)
    groups = assignment_order(s.assignment for s in summaries)
    handles = [Patch(color=_assignment_color(a), label=_label(a)) for a in groups]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01), fontsize=8,
              ncol=min(len(handles), 6), frameon=False)
    return _svg(figure)


@matplotlib.rc_context(_RC)
def grading_time_svg(outcomes: Sequence[Outcome]) -> str:
    """The grading time of each submission, one row of points per assignment, coloured by status;
    submissions without a measured time are left out."""
    timed = [o for o in outcomes if o.seconds is not None]
    order = assignment_order(o.assignment for o in timed)
    figure = Figure(figsize=(7.5, max(2.4, 0.55 * len(order) + 1.4)))
    ax = figure.add_subplot()
    if not timed:
        _no_data(ax, "No measured grading times")
        return _svg(figure)
    row = {a: i for i, a in enumerate(order)}
    jitter = np.random.default_rng(0)
    others = sorted({o.status for o in timed} - set(STATUSES))
    for status in (*STATUSES, *others):
        group = [o for o in timed if o.status == status]
        if group:
            ax.scatter([o.seconds for o in group if o.seconds is not None],
                       [row[o.assignment] + jitter.uniform(-0.2, 0.2) for o in group],
                       s=18, alpha=0.75, color=STATUS_COLORS.get(status, "#9467bd"),
                       label=_label(status))
    seconds = [o.seconds for o in timed if o.seconds is not None]
    if min(seconds) > 0 and max(seconds) / min(seconds) > 100:
        ax.set_xscale("log")
        # The default log labels are mathtext, which the plots' settings keep as raw text.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(left=0)
    ax.set_yticks(range(len(order)), [_label(a) for a in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel("seconds per submission")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    return _svg(figure)


def _label(text: str) -> str:
    """An assignment or grade id as a plot's label: its control characters shown escaped
    (matplotlib escapes the rest for SVG)."""
    return escape_controls(text)


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555")
    ax.set_xticks([])
    ax.set_yticks([])


def _assignment_color(assignment_id: str) -> str:
    """The same colour for an assignment in every plot, by its place in the course."""
    tab10 = matplotlib.colormaps["tab10"]
    palette = [tab10(i) for i in range(tab10.N)]
    rank, name = assignment_rank(assignment_id)
    return to_hex(palette[(rank + sum(map(ord, name))) % len(palette)])


def _svg(figure: Figure) -> str:
    """``figure`` as an ``<svg>`` element to put in a page (no XML prolog, no date)."""
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


# --- the page's parts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plot:
    """One plot of the page, with what the template shows around it."""

    id: str
    label: str
    svg: Markup
    caption: str


@dataclass(frozen=True)
class _Count:
    """One figure of the counts at the top of the page."""

    key: str
    name: str
    value: str
    alert: bool = False


@dataclass(frozen=True)
class _AssignmentRow:
    """One assignment's line of the table of assignments."""

    id: str
    title: str
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class _AttentionRow:
    """One submission that needs a person, and what to do."""

    student: str
    assignment: str
    score: str
    what: str


def _plot(element_id: str, label: str, draw: Callable[[Sequence[Outcome]], str],
          outcomes: Sequence[Outcome], caption: str) -> _Plot:
    """The plot ``draw`` makes of ``outcomes``, labelled for screen readers. The SVG is markup
    matplotlib wrote (text in it escaped by matplotlib), so it goes into the page as it is."""
    svg = draw(outcomes).replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return _Plot(element_id, label, Markup(svg), caption)


def _left_out_note(count: int, one: str, many: str) -> str:
    if count == 0:
        return "Nothing is left out."
    return f"{count} {one if count == 1 else many} left out."


def _counts(outcomes: Sequence[Outcome], *, budget: str, workers: int,
            wall_seconds: float) -> list[_Count]:
    by_status = Counter(o.status for o in outcomes)
    counts = [_Count("submissions", "Submissions", str(len(outcomes))),
              _Count("graded", "Graded now", str(by_status["graded"])),
              _Count("reused", "Reused", str(by_status["reused"])),
              _Count("unchanged", "Unchanged", str(by_status["unchanged"])),
              _Count("failed", "Failed", str(by_status["failed"]), alert=by_status["failed"] > 0),
              _Count("students", "Students", str(len({o.student for o in outcomes}))),
              _Count("wall-time", "Wall time", format_duration(wall_seconds)),
              _Count("budget", "Budget", budget),
              _Count("workers", "Workers", str(workers))]
    counts += [_Count(f"status-{s}", f"Status {s}", str(n)) for s, n in sorted(by_status.items())
               if s not in STATUSES]
    return counts


def _assignment_rows(outcomes: Sequence[Outcome]) -> list[_AssignmentRow]:
    possible = assignment_max_scores(outcomes)
    rows = []
    for assignment_id in assignment_order(o.assignment for o in outcomes):
        group = [o for o in outcomes if o.assignment == assignment_id]
        scores = [o.score for o in group if is_scored(o)]
        out_of = possible.get(assignment_id)
        rows.append(_AssignmentRow(assignment_id, _title(assignment_id), (
            str(len({o.student for o in group})),
            str(len(scores)),
            str(sum(o.status == "failed" for o in group)),
            _points(statistics.mean(scores), out_of) if scores else "–",
            _points(statistics.median(scores), out_of) if scores else "–",
            format_number(out_of) if out_of is not None else "–",
        )))
    return rows


def _attention_rows(outcomes: Sequence[Outcome]) -> list[_AttentionRow]:
    rows = []
    for o in sorted(outcomes, key=_row_order):
        manual = [t.grade_id for t in o.tests if t.needs_manual_grade]
        what = []
        if o.review:
            what.append("Flagged for review: " + "; ".join(o.review))
        test_errors = [n for n in o.notes if n.startswith(TEST_ERROR_NOTE)]
        if test_errors:
            what.append("Test errors, to fix in the assignment: "
                        + "; ".join(n[len(TEST_ERROR_NOTE):].strip() for n in test_errors))
        other = [n for n in o.notes if not n.startswith(TEST_ERROR_NOTE)]
        if other:
            what.append("Notes: " + "; ".join(other))
        if manual and o.status != "failed":
            what.append("Grade by hand: " + ", ".join(manual))
        elif o.status != "failed" and o.max_score <= 0:
            what.append("No graded tests: 0 of 0 points is an error, not a pass. Regrade it.")
        if what:
            rows.append(_AttentionRow(o.student, o.assignment,
                                      f"{format_number(o.score)}/{format_number(o.max_score)}",
                                      " ".join(what)))
    return rows


def format_duration(seconds: float) -> str:
    """``seconds`` as a person reads it: ``42.5 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _points(value: float, out_of: float | None) -> str:
    share = percent(value, out_of) if out_of else None
    text = format_number(value, 2)
    return text if share is None else f"{text} ({format_number(share, 0)}%)"


def _title(assignment_id: str) -> str:
    try:
        return assignment(assignment_id).title
    except UnknownAssignment:
        return ""


def _row_order(outcome: Outcome) -> tuple[tuple[int, str], str]:
    return (assignment_rank(outcome.assignment), outcome.student)
