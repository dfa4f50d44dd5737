"""A job's key changes whenever the code that grades changes, so no stale grade is reused."""

from __future__ import annotations

import shutil
from pathlib import Path

import autograder
from autograder.batch.jobs import grading_code_digest


def test_editing_a_check_changes_the_digest_of_the_grading_code(tmp_path: Path) -> None:
    package = tmp_path / "autograder"
    shutil.copytree(Path(autograder.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = grading_code_digest(package)
    assert grading_code_digest(package) == before
    check = package / "checks" / "arrays.py"
    check.write_text(check.read_text() + "\n# a changed tolerance\n")
    after = grading_code_digest.__wrapped__(package)
    assert after != before
    judge = package / "judge" / "verdict.py"
    judge.write_text(judge.read_text().replace("NoAnswer", "NoReply"))
    assert grading_code_digest.__wrapped__(package) not in (before, after)


def test_the_installed_kit_has_one_digest() -> None:
    assert grading_code_digest() == grading_code_digest.__wrapped__()
