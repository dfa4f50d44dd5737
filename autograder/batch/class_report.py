"""The class report: one self-contained HTML page on a batch run, for the instructor.

The page reads top to bottom as the questions an instructor asks after a run: how much was graded
and how (the counts), how each assignment went (a table and the score distribution), which tests
students fail (the pass rate per test), where the time went (the grading time per submission), and
what needs a person (failed submissions, tests left for manual grading).

It works offline and without JavaScript: the plots are inline SVG drawn by matplotlib without
pyplot, the CSS is in the page, and every piece of text is HTML-escaped, since student ids and
failure reasons come from the submissions.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from html import escape
from pathlib import Path
from typing import Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from autograder.batch.export import (assignment_max_scores, assignment_order, assignment_rank,
                                     format_number, is_scored, percent, summarize_tests)
from autograder.batch.atomic import write_atomic
from autograder.batch.outcome import STATUSES, Outcome
from autograder.authoring.course import UnknownAssignment, assignment

#: Colours of the outcome statuses in the grading-time plot.
STATUS_COLORS = {"graded": "#1f77b4", "reused": "#2ca02c", "unchanged": "#7f7f7f",
                 "failed": "#d62728"}

#: matplotlib settings for the plots: text stays text in the SVG, and a ``$`` in a test id is not
#: read as mathematics.
_RC = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 9}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 70rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.4; }
h1 { margin-bottom: .5rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
dl.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
            gap: .5rem; margin: 1rem 0; }
dl.counts div { background: #f4f6f8; border-radius: 6px; padding: .5rem .75rem; }
dl.counts dt { font-size: .8rem; color: #555; }
dl.counts dd { margin: 0; font-size: 1.3rem; white-space: nowrap; }
dl.counts .alert dd { color: #b00020; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e2e2e2; padding: .3rem .7rem; text-align: left;
         vertical-align: top; }
th { background: #f4f6f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { white-space: pre-wrap; max-width: 40rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9rem; }
p.none { color: #555; }
"""


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
    sections = [
        f"<h1>{escape(title)}</h1>",
        _counts(outcomes, budget=budget, workers=workers, wall_seconds=wall_seconds),
        "<h2>Scores per assignment</h2>",
        _assignment_table(outcomes),
        _figure("plot-scores", "Score distribution per assignment", score_distribution_svg,
                outcomes, _left_out_note(sum(o.status == "failed" for o in outcomes),
                                         "failed submission", "failed submissions")),
        "<h2>Pass rate per test</h2>",
        _figure("plot-pass-rate", "Pass rate per test", pass_rate_svg, outcomes,
                "The fraction of scored submissions with full points on each test."),
        "<h2>Grading time</h2>",
        _figure("plot-time", "Grading time per submission", grading_time_svg, outcomes,
                _left_out_note(sum(o.seconds is None for o in outcomes),
                               "submission without a measured time",
                               "submissions without a measured time")),
        "<h2>Failed submissions</h2>",
        _failed_table(outcomes),
        "<h2>Submissions needing attention</h2>",
        _attention_table(outcomes),
    ]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


# --- the plots ---------------------------------------------------------------------------------

@matplotlib.rc_context(_RC)
def score_distribution_svg(outcomes: Sequence[Outcome]) -> str:
    """A box and the individual scores, as percent of the points possible, per assignment;
    failed submissions are left out."""
    scores: dict[str, list[float]] = {}
    for outcome in outcomes:
        if is_scored(outcome):
            scores.setdefault(outcome.assignment, []).append(
                percent(outcome.score, outcome.max_score))
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
        ax.set_xticks(positions, [f"{a}\nn={len(v)}" for a, v in zip(order, values)])
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
    rates = [s.pass_rate for s in summaries]
    ax.barh(positions, [1] * len(positions), height=0.75, color="#eeeeee")  # the 100% track
    ax.barh(positions, rates, height=0.75,
            color=[_assignment_color(s.assignment) for s in summaries])
    for pos, summary in zip(positions, summaries):
        label = f"{summary.full_points}/{summary.students}"
        if summary.needs_manual_grade:
            label += f", {summary.needs_manual_grade} by hand"
        ax.text(1.01, pos, label, va="center", fontsize=8)
    ax.set_yticks(positions, [s.grade_id for s in summaries])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    ax.set_xlabel("students with full points")
    ax.grid(axis="x", alpha=0.3)
    groups = assignment_order(s.assignment for s in summaries)
    handles = [Patch(color=_assignment_color(a), label=a) for a in groups]
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
            ax.scatter([o.seconds for o in group],
                       [row[o.assignment] + jitter.uniform(-0.2, 0.2) for o in group],
                       s=18, alpha=0.75, color=STATUS_COLORS.get(status, "#9467bd"), label=status)
    seconds = [o.seconds for o in timed]
    if min(seconds) > 0 and max(seconds) / min(seconds) > 100:
        ax.set_xscale("log")
        # The default log labels are mathtext, which the plots' settings keep as raw text.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(left=0)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel("seconds per submission")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    return _svg(figure)


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555")
    ax.set_xticks([])
    ax.set_yticks([])


def _assignment_color(assignment_id: str) -> str:
    """The same colour for an assignment in every plot, by its place in the course."""
    palette = matplotlib.colormaps["tab10"].colors
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

def _figure(element_id: str, label: str, draw: Callable[[Sequence[Outcome]], str],
            outcomes: Sequence[Outcome], caption: str) -> str:
    svg = draw(outcomes).replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return (f'<figure id="{element_id}">\n{svg}\n'
            f"<figcaption>{escape(label)}. {escape(caption)}</figcaption>\n</figure>")


def _left_out_note(count: int, one: str, many: str) -> str:
    if count == 0:
        return "Nothing is left out."
    return f"{count} {one if count == 1 else many} left out."


def _counts(outcomes: Sequence[Outcome], *, budget: str, workers: int,
            wall_seconds: float) -> str:
    by_status = Counter(o.status for o in outcomes)
    items = [("submissions", "Submissions", str(len(outcomes))),
             ("graded", "Graded now", str(by_status["graded"])),
             ("reused", "Reused", str(by_status["reused"])),
             ("unchanged", "Unchanged", str(by_status["unchanged"])),
             ("failed", "Failed", str(by_status["failed"])),
             ("students", "Students", str(len({o.student for o in outcomes}))),
             ("wall-time", "Wall time", format_duration(wall_seconds)),
             ("budget", "Budget", budget),
             ("workers", "Workers", str(workers))]
    items += [(f"status-{s}", f"Status {s}", str(n)) for s, n in sorted(by_status.items())
              if s not in STATUSES]
    alert = ' class="alert"'
    cells = "\n".join(f'<div{alert if key == "failed" and value != "0" else ""} '
                      f'data-count="{escape(key)}"><dt>{escape(name)}</dt><dd>{escape(value)}</dd>'
                      f"</div>" for key, name, value in items)
    return f'<dl class="counts">\n{cells}\n</dl>'


def _assignment_table(outcomes: Sequence[Outcome]) -> str:
    order = assignment_order(o.assignment for o in outcomes)
    if not order:
        return '<p class="none">No submissions.</p>'
    possible = assignment_max_scores(outcomes)
    rows = []
    for assignment_id in order:
        group = [o for o in outcomes if o.assignment == assignment_id]
        scores = [o.score for o in group if is_scored(o)]
        out_of = possible.get(assignment_id)
        cells = [
            f"<td>{escape(assignment_id)}</td>",
            f"<td>{escape(_title(assignment_id))}</td>",
            _num(len({o.student for o in group})),
            _num(len(scores)),
            _num(sum(o.status == "failed" for o in group)),
            _num(_points(statistics.mean(scores), out_of) if scores else "–"),
            _num(_points(statistics.median(scores), out_of) if scores else "–"),
            _num(format_number(out_of) if out_of is not None else "–"),
        ]
        rows.append(f'<tr data-assignment="{escape(assignment_id)}">{"".join(cells)}</tr>')
    head = "".join(f"<th>{h}</th>" for h in ("Assignment", "Title", "Students", "Scored",
                                             "Failed", "Mean", "Median", "Out of"))
    return (f'<table id="assignments">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>")


def _failed_table(outcomes: Sequence[Outcome]) -> str:
    failed = sorted((o for o in outcomes if o.status == "failed"), key=_row_order)
    if not failed:
        return '<p class="none" id="failed-none">No submission failed.</p>'
    rows = "\n".join(
        f"<tr><td>{escape(o.student)}</td><td>{escape(o.assignment)}</td>"
        f'<td class="reason">{escape(o.reason or "(no reason recorded)")}</td>'
        f"<td>{escape(o.worker)}</td></tr>" for o in failed)
    return ('<table id="failed">\n<thead><tr><th>Student</th><th>Assignment</th><th>Reason</th>'
            f"<th>Worker</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")


def _attention_table(outcomes: Sequence[Outcome]) -> str:
    rows = []
    for o in sorted(outcomes, key=_row_order):
        manual = [t.grade_id for t in o.tests if t.needs_manual_grade]
        what = []
        if o.review:
            what.append("Flagged for review: " + "; ".join(o.review))
        if o.notes:
            what.append("Notes: " + "; ".join(o.notes))
        if manual and o.status != "failed":
            what.append("Grade by hand: " + ", ".join(manual))
        elif o.status != "failed" and o.max_score <= 0:
            what.append("No graded tests: 0 of 0 points is an error, not a pass. Regrade it.")
        if not what:
            continue
        what = " ".join(what)
        rows.append(f"<tr><td>{escape(o.student)}</td><td>{escape(o.assignment)}</td>"
                    f'<td class="num">{format_number(o.score)}/{format_number(o.max_score)}</td>'
                    f'<td class="reason">{escape(what)}</td></tr>')
    if not rows:
        return '<p class="none" id="attention-none">No submission needs a person.</p>'
    return ('<table id="attention">\n<thead><tr><th>Student</th><th>Assignment</th><th>Score</th>'
            "<th>What to do</th></tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table>")


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


def _num(value: object) -> str:
    return f'<td class="num">{escape(str(value))}</td>'


def _title(assignment_id: str) -> str:
    try:
        return assignment(assignment_id).title
    except UnknownAssignment:
        return ""


def _row_order(outcome: Outcome) -> tuple[tuple[int, str], str]:
    return (assignment_rank(outcome.assignment), outcome.student)
