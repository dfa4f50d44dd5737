"""Grade one submission with the real ``nbgrader autograde``."""

from __future__ import annotations

import time
from pathlib import Path

from autograder.budget import BUDGET_ENV
from autograder.nbgrader_run import run_nbgrader
from autograder.results import SubmissionScore, read_submission


def autograde(course_root: Path, assignment_id: str, student: str, *, budget: str) -> SubmissionScore:
    """Run ``nbgrader autograde <assignment> --student <student>`` under ``budget`` and return the
    scores it recorded, with the wall time of the run."""
    start = time.monotonic()
    run_nbgrader(["autograde", assignment_id, "--student", student, "--force"], course_root,
                 env={BUDGET_ENV: budget})
    return read_submission(course_root, assignment_id, student, seconds=time.monotonic() - start)

