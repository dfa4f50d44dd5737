"""Grade the sample class end to end: a fresh nbgrader course, the real commands, a score table."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from autograder import build, grading
from autograder.course import ASSIGNMENT_IDS
from autograder.results import SubmissionScore
from autograder.samples import sample_class
from autograder.samples.sample_class import SampleSubmission

#: A file that marks a folder as made by :func:`grade`, so that a rerun may replace it.
MARKER = ".cnnkit-sample-class"


@dataclass(frozen=True)
class Graded:
    """A sample submission and the grade nbgrader gave it."""

    submission: SampleSubmission
    """What was submitted, and what grading it must give."""
    result: SubmissionScore
    """What nbgrader recorded."""


class WorkdirError(RuntimeError):
    """The work folder exists and was not made by the kit."""


def prepare(repo: Path, workdir: Path, assignments: Sequence[str]) -> list[SampleSubmission]:
    """Make a fresh course in ``workdir``, generate the assignments, and write the sample
    submissions; return them."""
    if workdir.exists():
        if not (workdir / MARKER).exists():
            raise WorkdirError(f"{workdir}: expected a new folder or one made by a previous "
                               f"sample-class run, got a folder without {MARKER}. Choose another "
                               f"--workdir; nothing was changed.")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("made by cnnkit sample-class; safe to delete\n", encoding="utf-8")
    build.make_course(repo, workdir)
    build.generate(workdir, assignments, solutions=False)
    items = sample_class.submissions(repo, assignments)
    sample_class.write(workdir, items)
    return items


def grade(repo: Path, workdir: Path, *, budget: str, assignments: Sequence[str] = ASSIGNMENT_IDS,
          feedback: bool = True, console: Console | None = None) -> list[Graded]:
    """Grade every sample submission with ``nbgrader autograde`` (one process per submission)
    and, with ``feedback``, write each one's feedback HTML."""
    console = console or Console()
    items = prepare(repo, workdir, assignments)
    graded = []
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("grading", total=len(items))
        for item in items:
            progress.update(task, description=f"grading {item.student}/{item.assignment}")
            result = grading.autograde(workdir, item.assignment, item.student, budget=budget)
            if feedback:
                grading.feedback(workdir, item.assignment, item.student)
            progress.console.print(
                f"{item.student:>12} {item.assignment:<14} {result.score:>4g}/{result.max_score:<4g}"
                f" {result.seconds:6.1f} s  {item.description}", markup=False, highlight=False)
            graded.append(Graded(item, result))
            progress.advance(task)
    return graded
