"""Tampered nbgrader metadata is put right in one place, the course's ``SettleMetadata``: plain
``nbgrader autograde`` by hand grades such a notebook as ``cnnkit grade`` does, and both as the
untouched notebook (the batch grader flags or notes what was changed)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from autograder.authoring import build
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.batch.grade import Settings, grade_class
from autograder.batch.outcome import Submission
from autograder.batch.results import read_submission

pytestmark = pytest.mark.slow


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _variants(repo: Path) -> dict[str, nbformat.NotebookNode]:
    """The reference ``images`` notebook, and three copies whose metadata a student changed."""
    def reference() -> nbformat.NotebookNode:
        return nbformat.read(repo / "solutions" / "images" / "images.ipynb", 4)

    marked = reference()  # a test cell turned into an answer cell, unlocked, worth 100 points
    next(c for c in marked.cells if _grade_id(c) == "test_load_images").metadata.nbgrader.update(
        solution=True, locked=False, points=100)
    deleted = reference()  # the imports and a test deleted (nbgrader alone re-adds neither)
    deleted.cells = [c for c in deleted.cells if _grade_id(c) not in ("libraries", "test_load_images")]
    stripped = reference()  # a test cell's nbgrader metadata removed
    del next(c for c in stripped.cells if _grade_id(c) == "test_stack_images").metadata["nbgrader"]
    return {"honest": reference(), "marked": marked, "deleted": deleted, "stripped": stripped}


def _scores(course: Path, students) -> dict:
    return {s: {t.grade_id: t.score for t in read_submission(course, "images", s).tests} for s in students}


def test_plain_nbgrader_grades_tampered_metadata_as_the_batch_grader(repo: Path, tmp_path: Path) -> None:
    plain = build.make_course(repo, tmp_path / "plain")
    run_nbgrader(["generate_assignment", "images", "--force"], plain)
    variants = _variants(repo)
    for student, nb in variants.items():
        (plain / "submitted" / student / "images").mkdir(parents=True)
        nbformat.write(nb, plain / "submitted" / student / "images" / "images.ipynb")
    batch = tmp_path / "batch"
    shutil.copytree(plain, batch)

    run_nbgrader(["autograde", "images", "--force"], plain, env={"CNNKIT_BUDGET": "smoke"})
    subs = [Submission(s, "images", batch / "submitted" / s / "images" / "images.ipynb", s) for s in variants]
    result = grade_class(batch, subs, Settings(budget="smoke", workers=2, feedback=False),
                         Console(file=io.StringIO(), width=160))

    by_plain, by_batch = _scores(plain, variants), _scores(batch, variants)
    assert sum(by_plain["honest"].values()) == 5
    assert by_plain == by_batch
    assert all(scores == by_plain["honest"] for scores in by_plain.values()), by_plain
    outcomes = {o.student: o for o in result.outcomes}
    assert [o.status for o in result.outcomes] == ["graded"] * len(variants)
    assert any("cell test_load_images: its nbgrader metadata was changed (solution: True, locked: "
               "False, points: 100)" in r for r in outcomes["marked"].review)
    assert any("libraries, test_load_images: they were deleted; the originals were put back and run" in n
               for n in outcomes["deleted"].notes), outcomes["deleted"].notes
    assert any("cell test_stack_images: the nbgrader metadata was removed" in n
               for n in outcomes["stripped"].notes), outcomes["stripped"].notes
