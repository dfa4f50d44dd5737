"""The plan printed before grading: which file is whose, for which assignment, and which files
will not be graded, with why. Every name and reason in it comes from the submissions, so each is
printed through :func:`~autograder.batch.sanitize.for_terminal`."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from autograder.batch.intake.result import Intake
from autograder.batch.sanitize import for_terminal


def show(intake: Intake, console: Console) -> None:
    """Print what will be graded: a table of student, assignment and the file each came from,
    then the files that will not be graded with their reasons, then the superseded attempts."""
    replaced = {(s.student, s.assignment) for s in intake.replaced}
    students = len(intake.students)
    console.print(Text(f"{len(intake.submissions)} submission(s) from {students} student(s) to grade; "
                       f"{len(intake.unplaced)} file(s) not graded; {len(intake.superseded)} older "
                       f"attempt(s) superseded."))
    if intake.submissions:
        table = Table(title="Submissions to grade", title_justify="left")
        table.add_column("student", no_wrap=True)
        table.add_column("assignment", no_wrap=True)
        table.add_column("from", overflow="fold")
        if replaced:
            table.add_column("note")
        for submission in intake.submissions:
            row = [_text(submission.student), _text(submission.assignment), _text(submission.origin)]
            if replaced:
                key = (submission.student, submission.assignment)
                row.append(Text("replaced a different notebook in submitted/" if key in replaced
                                else ""))
            table.add_row(*row)
        console.print(table)
    for title, items in (("Not graded", intake.unplaced), ("Superseded attempts", intake.superseded)):
        if not items:
            continue
        console.print(Text(f"\n{title} ({len(items)})", style="bold"))
        for item in items:
            console.print(_text(item.origin, style="bold"), overflow="fold")
            reason = item.reason.removeprefix(f"{item.origin}: ")
            console.print(Padding(_text(reason), (0, 0, 0, 4), expand=False))


def _text(value: str, style: str = "") -> Text:
    """``value`` as rich text that neither markup nor a control character in it can change."""
    return Text(for_terminal(value), style=style)
