"""Grade sample submissions end to end: a fresh nbgrader course, the real commands, a score table."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from autograder import build, grading
from autograder.course import ASSIGNMENT_IDS
from autograder.nbgrader_run import NbgraderError, run_nbgrader
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


def prepare(repo: Path, workdir: Path, assignments: Sequence[str],
            items: Sequence[SampleSubmission] | None = None) -> list[SampleSubmission]:
    """Make a fresh course in ``workdir``, generate the assignments, and write the submissions
    (the sample class unless ``items`` are given); return them."""
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
    chosen = list(items) if items is not None else sample_class.submissions(repo, assignments)
    sample_class.write(workdir, chosen)
    return chosen


def grade(repo: Path, workdir: Path, *, budget: str, assignments: Sequence[str] = ASSIGNMENT_IDS,
          items: Sequence[SampleSubmission] | None = None, feedback: bool = True, jobs: int = 1,
          console: Console | None = None) -> list[Graded]:
    """Grade every submission with ``nbgrader autograde``, one process per submission and up to
    ``jobs`` at once; then, with ``feedback``, write the feedback HTML of each assignment.

    A submission whose autograde fails is reported and left out of the result.
    """
    console = console or Console()
    chosen = prepare(repo, workdir, assignments, items)
    graded: list[Graded] = []
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress, \
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        task = progress.add_task("grading", total=len(chosen))
        futures = {pool.submit(grading.autograde, workdir, item.assignment, item.student, budget=budget): item
                   for item in chosen}
        for future in as_completed(futures):
            item = futures[future]
            try:
                result = future.result()
            except NbgraderError as exc:
                progress.console.print(f"{item.student:>24} {item.assignment:<14} not graded: {exc}",
                                       markup=False, highlight=False)
            else:
                progress.console.print(
                    f"{item.student:>24} {item.assignment:<14} {result.score:>4g}/{result.max_score:<4g}"
                    f" {result.seconds:6.1f} s  {item.description}", markup=False, highlight=False)
                graded.append(Graded(item, result))
            progress.advance(task)
    if feedback:
        for assignment_id in dict.fromkeys(item.assignment for item in chosen):
            run_nbgrader(["generate_feedback", assignment_id, "--force"], workdir)
    order = {id(item): i for i, item in enumerate(chosen)}
    return sorted(graded, key=lambda g: order[id(g.submission)])
