"""Print grading results for a person: one table of scores, and what each lost point was for.

Student ids and grade ids are printed through :func:`~autograder.batch.sanitize.for_terminal`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.batch.results import SubmissionScore
from autograder.batch.sanitize import for_terminal


def score_table(results: Iterable[SubmissionScore], assignments: Sequence[str]) -> Table:
    """A student-by-assignment table of ``score/max``, with each student's total."""
    by_student: dict[str, dict[str, SubmissionScore]] = {}
    for result in results:
        by_student.setdefault(result.student, {})[result.assignment] = result
    table = Table(title="Scores per student and assignment")
    table.add_column("student", no_wrap=True)
    for assignment_id in assignments:
        table.add_column(assignment_id, justify="right", no_wrap=True)
    table.add_column("total", justify="right")
    for student in sorted(by_student):
        row = by_student[student]
        cells = [_cell(row.get(a)) for a in assignments]
        total = sum(r.score for r in row.values())
        possible = sum(r.max_score for r in row.values())
        table.add_row(Text(for_terminal(student)), *cells, f"{total:g}/{possible:g}")
    return table


def _cell(result: SubmissionScore | None) -> str:
    return "—" if result is None else f"{result.score:g}/{result.max_score:g}"


def lost_points(results: Iterable[SubmissionScore]) -> list[str]:
    """One line per submission that lost points: which tests, and how many points each."""
    lines = []
    for result in sorted(results, key=lambda r: (r.student, r.assignment)):
        lost = [f"{for_terminal(t.grade_id)} ({t.score:g}/{t.max_score:g})" for t in result.tests
                if t.score < t.max_score]
        if lost:
            lines.append(f"{for_terminal(result.student)}/{for_terminal(result.assignment)}: "
                         f"{', '.join(lost)}")
    return lines


def print_results(results: Sequence[SubmissionScore], assignments: Sequence[str],
                  console: Console | None = None) -> None:
    """Print the score table and the tests each submission failed."""
    console = console or Console()
    console.print(score_table(results, assignments))
    lines = lost_points(results)
    if lines:
        console.print("\n[bold]Tests that lost points[/bold]")
        for line in lines:
            console.print("  " + line, markup=False, highlight=False)
