"""How a batch of ``cnnkit grade`` runs: its settings, each declared once with its default and
its help (:func:`autograder.settings.setting`), from which the command's options are generated.

Kept apart from :mod:`~autograder.batch.grade` so that the command line can be built without
importing nbgrader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.batch.limits import Limits, limits_setting
from autograder.budget import BUDGETS
from autograder.settings import setting


@dataclass(frozen=True)
class Settings:
    """How a batch runs; every field has the default a grader expects."""

    budget: str = setting("cpu", "The training budget the notebooks run under (CNNKIT_BUDGET in "
                                 "each kernel).", choices=sorted(BUDGETS))
    workers: int | None = setting(None, "Submissions graded at once on this machine (default: "
                                        "what the cores and memory allow under the budget).")
    scheduler: str | None = setting(None, "Run on the workers of this Dask scheduler (e.g. "
                                          "tcp://10.0.0.5:8786) instead of this machine; "
                                          "gpu-budget jobs go to workers started with "
                                          "--resources GPU=1.", metavar="ADDRESS")
    db_url: str | None = setting(None, "The gradebook (default: the course's, "
                                       "sqlite:///<course>/gradebook.db; e.g. "
                                       "postgresql+psycopg://user:password@host/db).")
    output: Path | None = setting(None, "Folder for grades.csv and report.html (default: "
                                        "<course>/grading).")
    feedback: bool = setting(True, "Write each student's feedback HTML (nbgrader "
                                   "generate_feedback).")
    retry_failed: bool = setting(False, "Run again the submissions whose earlier run failed.")
    limits: Limits | None = limits_setting()
