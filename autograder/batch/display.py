"""What the grader sees while a batch runs: a progress bar with the time left, one line per
finished submission, and a summary.

Student ids, reasons, review flags and notes come from the submissions; every one is printed
through :func:`~autograder.batch.sanitize.for_terminal`, so none can drive the terminal. Callers
print the lines with ``markup=False``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from autograder.batch.export import assignment_order
from autograder.batch.outcome import Outcome
from autograder.batch.sanitize import for_terminal


def progress(console: Console) -> Progress:
    """A live bar: submissions done of all, time so far, and an estimate of the time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                    console=console, transient=True)


def line(outcome: Outcome) -> str:
    """One line for a finished submission: status, student, assignment, score, seconds, and the
    reason it failed."""
    head = (f"{for_terminal(outcome.status):<9} {for_terminal(outcome.student):<24} "
            f"{for_terminal(outcome.assignment):<14}")
    if outcome.status == "failed":
        return f"{head} {'-':>9} {'':>8}  {for_terminal(outcome.reason)}" + _extras(outcome)
    seconds = f"{outcome.seconds:6.1f} s" if outcome.seconds is not None else f"{'':>8}"
    manual = "  (needs manual grading)" if any(t.needs_manual_grade for t in outcome.tests) else ""
    text = f"{head} {outcome.score:>4g}/{outcome.max_score:<4g} {seconds}{manual}"
    return text + _extras(outcome)


def _extras(outcome: Outcome) -> str:
    text = ""
    if outcome.review:
        more = f" (+{len(outcome.review) - 1} more)" if len(outcome.review) > 1 else ""
        text += f"  REVIEW: {for_terminal(outcome.review[0])}{more}"
    if outcome.notes:
        more = f" (+{len(outcome.notes) - 1} more)" if len(outcome.notes) > 1 else ""
        text += f"  NOTE: {for_terminal(outcome.notes[0])}{more}"
    return text


def summary(outcomes: Sequence[Outcome], console: Console, *, wall_seconds: float,
            where: str) -> None:
    """Per assignment: submissions, how each was handled, mean score; then the totals."""
    table = Table(title=f"Batch summary ({where})", title_justify="left")
    for column in ("assignment", "submissions", "graded", "reused", "unchanged", "failed",
                   "mean score", "full marks"):
        table.add_column(column, justify="left" if column == "assignment" else "right")
    for assignment_id in assignment_order(o.assignment for o in outcomes):
        rows = [o for o in outcomes if o.assignment == assignment_id]
        if not rows:
            continue
        counts = Counter(o.status for o in rows)
        scored = [o for o in rows if o.status != "failed" and o.max_score > 0]
        mean = (f"{sum(o.score for o in scored) / len(scored):.1f}/{scored[0].max_score:g}"
                if scored else "-")
        full = sum(1 for o in scored if o.score == o.max_score)
        table.add_row(assignment_id, str(len(rows)), *(str(counts[s]) for s in
                      ("graded", "reused", "unchanged", "failed")), mean, str(full))
    console.print(table)
    counts = Counter(o.status for o in outcomes)
    console.print(f"{len(outcomes)} submission(s) in {wall_seconds:.0f} s: {counts['graded']} "
                  f"executed, {counts['reused']} reused from an identical earlier run, "
                  f"{counts['unchanged']} already in the gradebook, {counts['failed']} failed.",
                  highlight=False)
    flagged = [o for o in outcomes if o.review]
    if flagged:
        console.print(f"{len(flagged)} submission(s) flagged for manual review (their points stand "
                      f"until you look; nbgrader's formgrader shows them flagged):",
                      style="bold yellow", highlight=False)
        for o in flagged:
            console.print(f"  {for_terminal(o.student)} / {for_terminal(o.assignment)}: "
                          + "; ".join(map(for_terminal, o.review)), markup=False, highlight=False)
