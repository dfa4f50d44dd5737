"""release/ and solutions/ are generated from source/, and say only what they should."""

import json

import pytest

from autograder.authoring.course import ASSIGNMENT_IDS, assignment
from autograder.authoring.sync import compare_generated


@pytest.mark.slow
def test_regenerating_changes_nothing_committed(repo, tmp_path):
    assert compare_generated(repo, tmp_path) == []


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_source_notebooks_have_no_outputs_and_points_on_every_test(repo, assignment_id):
    for cell in cells(repo / "source" / assignment_id / assignment(assignment_id).notebook):
        meta = cell["metadata"]["nbgrader"]
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        if meta["grade"]:
            assert meta["points"] > 0
            first = cell["source"][0] if isinstance(cell["source"], list) else cell["source"]
            assert first.startswith("# "), f"{meta['grade_id']} must open with a line saying what it checks"


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_release_and_solutions_hide_what_they_should(repo, assignment_id):
    name = assignment(assignment_id).notebook
    release = "".join("".join(c["source"]) for c in cells(repo / "release" / assignment_id / name))
    solutions = "".join("".join(c["source"]) for c in cells(repo / "solutions" / assignment_id / name))
    source = "".join("".join(c["source"]) for c in cells(repo / "source" / assignment_id / name))
    for text in (release, solutions):
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "HIDDEN TESTS" not in text
    solution_code = "".join("".join(c["source"]) for c in cells(repo / "solutions" / assignment_id / name)
                            if c["cell_type"] == "code")
    assert "raise NotImplementedError()" in release
    assert "raise NotImplementedError()" not in solution_code
    assert "BEGIN HIDDEN TESTS" in source


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_headings_carry_the_tutorials_chinese(repo, assignment_id):
    text = "\n".join("".join(c["source"]) for c in cells(repo / "source" / assignment_id /
                                                       assignment(assignment_id).notebook)
                   if c["cell_type"] == "markdown")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings and all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headings)
