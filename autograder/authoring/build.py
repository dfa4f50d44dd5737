"""Generate ``release/`` and ``solutions/`` from ``source/`` with nbgrader, for one course folder.

``release/`` is what ``nbgrader generate_assignment`` writes; ``solutions/`` is what
``nbgrader generate_solution`` writes with the kit's configuration (clean reference notebooks).
Both are committed, and a test regenerates them to prove they match ``source/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from autograder.authoring import course
from autograder.authoring.nbgrader_run import run_nbgrader

#: What a course folder needs to run nbgrader: the configuration and the instructor notebooks
#: (and the course's own checks, :func:`autograder.authoring.course_checks.files`).
COURSE_FILES = ("nbgrader_config.py", "source")


def make_course(repo: Path, target: Path) -> Path:
    """Copy the course's configuration, ``source/`` and own checks from ``repo`` into ``target``,
    a fresh folder that nbgrader can run in (its own gradebook, release and submissions)."""
    from autograder.authoring import course_checks

    target.mkdir(parents=True, exist_ok=True)
    for name, content in course_checks.files(course.load(repo)).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(content)
    for name in COURSE_FILES:
        src, dst = repo / name, target / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(src, dst)
    return target


def generate(course_root: Path, assignments: Iterable[str] | None = None, *,
             solutions: bool = True) -> None:
    """Run ``nbgrader generate_assignment`` (and ``generate_solution``) for each assignment
    (default: every assignment of the course's ``source/``)."""
    for assignment_id in course.load(course_root).ids if assignments is None else assignments:
        run_nbgrader(["generate_assignment", assignment_id, "--force"], course_root)
        if solutions:
            run_nbgrader(["generate_solution", assignment_id, "--force"], course_root)
