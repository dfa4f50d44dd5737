"""Grade sample submissions end to end: a fresh nbgrader course, the batch grader, a score table."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from autograder.authoring import build
from autograder.authoring.samples import sample_class
from autograder.authoring.samples.sample_class import SampleSubmission
from autograder.batch.grade import Settings, grade_class
from autograder.batch.outcome import Submission
from autograder.batch.results import SubmissionScore
from autograder.errors import BadInput

#: A file that marks a folder as made by :func:`grade`, so that a rerun may replace it.
MARKER = ".cnnkit-sample-class"


@dataclass(frozen=True)
class Graded:
    """A sample submission and the grade nbgrader gave it."""

    submission: SampleSubmission
    """What was submitted, and what grading it must give."""
    result: SubmissionScore
    """What nbgrader recorded."""


class WorkdirError(BadInput, RuntimeError):
    """The work folder exists and was not made by the kit."""


def prepare(repo: Path, workdir: Path, assignments: Sequence[str] | None,
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


def grade(repo: Path, workdir: Path, *, budget: str, assignments: Sequence[str] | None = None,
          items: Sequence[SampleSubmission] | None = None, feedback: bool = True, jobs: int | None = None,
          console: Console | None = None) -> list[Graded]:
    """Grade every submission with the kit's batch grader (nbgrader's autograde, ``jobs`` at once;
    None: what fits the machine), writing feedback HTML, ``grading/grades.csv`` and
    ``grading/report.html`` in ``workdir``.

    A submission that could not be graded is reported and left out of the result.
    """
    chosen = prepare(repo, workdir, assignments, items)
    submissions = [Submission(item.student, item.assignment,
                              workdir / "submitted" / item.student / item.assignment
                              / f"{item.assignment}.ipynb", item.description) for item in chosen]
    batch = grade_class(workdir, submissions, Settings(budget=budget, workers=jobs, feedback=feedback),
                        console or Console())
    if batch.interrupted:
        raise KeyboardInterrupt
    by_key = {(o.student, o.assignment): o for o in batch.outcomes if o.status != "failed"}
    graded = []
    for item in chosen:
        outcome = by_key.get((item.student, item.assignment))
        if outcome is not None:
            graded.append(Graded(item, SubmissionScore(outcome.student, outcome.assignment,
                                                       outcome.tests, outcome.seconds)))
    return graded
