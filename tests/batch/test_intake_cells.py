"""The intake refuses a notebook whose nbgrader metadata nbgrader cannot use, with the cell and the
fix, whatever its source: a non-mapping ``nbgrader``, a bad grade id, a grade id on two cells."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from autograder.authoring import build
from autograder.batch.intake import MAX_GRADE_ID, from_submitted, from_zip

USE_RELEASED = ("ask the student to put their answers into a fresh copy of the released notebook "
                "and submit that.")


@pytest.fixture
def course(repo: Path, tmp_path: Path) -> Path:
    return build.make_course(repo, tmp_path / "course")


def _release(repo: Path) -> dict:
    return json.loads((repo / "release" / "images" / "images.ipynb").read_text("utf-8"))


def _graded_cells(content: dict) -> list[int]:
    """Indexes of the cells with a grade id, in order."""
    return [i for i, c in enumerate(content["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id")]


def _with_nbgrader(repo: Path, value) -> tuple[bytes, int]:
    """The images release notebook with the second graded cell's ``nbgrader`` set to ``value``;
    also that cell's number (from 1)."""
    content = _release(repo)
    index = _graded_cells(content)[1]
    content["cells"][index]["metadata"]["nbgrader"] = value
    return json.dumps(content).encode("utf-8"), index + 1


def _with_grade_id(repo: Path, grade_id) -> tuple[bytes, int]:
    content = _release(repo)
    index = _graded_cells(content)[1]
    content["cells"][index]["metadata"]["nbgrader"]["grade_id"] = grade_id
    return json.dumps(content).encode("utf-8"), index + 1


def _submit(course: Path, repo: Path, student: str, data: bytes | None = None) -> None:
    folder = course / "submitted" / student / "images"
    folder.mkdir(parents=True, exist_ok=True)
    if data is None:
        shutil.copy(repo / "release" / "images" / "images.ipynb", folder / "images.ipynb")
    else:
        (folder / "images.ipynb").write_bytes(data)
    (folder / "timestamp.txt").write_text("2026-11-28 08:00:00.000000 UTC")


def _refused(course: Path, repo: Path, data: bytes) -> str:
    """The reason from_submitted gives for ``data``, next to a good notebook that is placed."""
    _submit(course, repo, "bad", data)
    _submit(course, repo, "good")
    result = from_submitted(course, ["images"])
    assert [s.student for s in result.submissions] == ["good"]
    [refused] = result.unplaced
    assert refused.origin == "submitted/bad/images/images.ipynb"
    prefix = "submitted/bad/images/images.ipynb: "
    assert refused.reason.startswith(prefix)
    return refused.reason.removeprefix(prefix)


@pytest.mark.parametrize("value, got", [
    (None, "null"),
    ([], "a list of 0 item(s)"),
    (["grade_id", "x"], "a list of 2 item(s)"),
    ("test_load_images", "a string ('test_load_images')"),
    (7, "a number (7)"),
    (True, "true (a boolean)"),
], ids=["null", "empty-list", "list", "string", "number", "boolean"])
def test_nbgrader_metadata_that_is_not_a_mapping(repo, course, value, got):
    data, cell = _with_nbgrader(repo, value)
    assert _refused(course, repo, data) == (
        f"expected the nbgrader metadata of cell {cell} to be a mapping, got {got}. The notebook "
        f"was edited outside Jupyter or by a tool that broke it: {USE_RELEASED}")


@pytest.mark.parametrize("grade_id, got", [
    ("", "an empty string"),
    (None, "null"),
    (12, "a number (12)"),
    (["a"], "a list of 1 item(s)"),
    ("test\x1b[31m_red", "'test\\x1b[31m_red', which holds a character that is not printable"),
    ("test_\r=HYPERLINK(1)", "'test_\\r=HYPERLINK(1)', which holds a character that is not printable"),
    ("test_\u202eevil", "'test_\\u202eevil', which holds a character that is not printable"),
    ("test_a\tb", "'test_a\\tb', which holds a character that is not printable"),
    ("x" * (MAX_GRADE_ID + 1), f"{MAX_GRADE_ID + 1} characters ('xxxxxxxxxxxxxxxxxxxx'...)"),
], ids=["empty", "null", "number", "list", "ansi-escape", "carriage-return", "bidi-override", "tab",
        "too-long"])
def test_a_grade_id_that_nbgrader_cannot_use(repo, course, grade_id, got):
    data, cell = _with_grade_id(repo, grade_id)
    reason = _refused(course, repo, data)
    assert reason.startswith(f"expected the grade id of cell {cell} to be a non-empty string of "
                             f"printable characters (at most {MAX_GRADE_ID}), got {got}")
    assert reason.endswith(f"The notebook's metadata was edited: {USE_RELEASED}")
    assert "\x1b" not in reason and "\r" not in reason and "\u202e" not in reason


def test_the_longest_grade_id_and_printable_unicode_are_taken(repo, course):
    for student, grade_id in (("long", "x" * MAX_GRADE_ID), ("unicode", "prüfung_李 1")):
        data, _ = _with_grade_id(repo, grade_id)
        _submit(course, repo, student, data)
    result = from_submitted(course, ["images"])
    assert [s.student for s in result.submissions] == ["long", "unicode"]
    assert result.unplaced == ()


def test_a_grade_id_on_two_cells(repo, course):
    content = _release(repo)
    first, second = _graded_cells(content)[:2]
    shared = content["cells"][first]["metadata"]["nbgrader"]["grade_id"]
    content["cells"][second]["metadata"]["nbgrader"]["grade_id"] = shared
    assert _refused(course, repo, json.dumps(content).encode("utf-8")) == (
        f"expected each grade id on one cell, got {shared!r} on cells {first + 1} and {second + 1}. "
        f"A cell was copied with its metadata (Jupyter copies it): delete the copy, or "
        f"{USE_RELEASED}")


def test_a_copied_cell_with_its_metadata_is_refused(repo, course):
    content = _release(repo)
    index = _graded_cells(content)[0]
    content["cells"].insert(index + 1, json.loads(json.dumps(content["cells"][index])))
    reason = _refused(course, repo, json.dumps(content).encode("utf-8"))
    assert reason.startswith("expected each grade id on one cell, got ")
    assert f"on cells {index + 1} and {index + 2}." in reason


def test_a_notebook_without_any_nbgrader_metadata_is_still_graded(repo, course):
    content = _release(repo)
    for cell in content["cells"]:
        cell["metadata"].pop("nbgrader", None)
    _submit(course, repo, "stripped", json.dumps(content).encode("utf-8"))
    result = from_submitted(course, ["images"])
    assert [s.student for s in result.submissions] == ["stripped"]


def test_a_zip_member_with_bad_metadata_is_unplaced_and_the_rest_placed(repo, course, tmp_path):
    null, cell = _with_nbgrader(repo, None)
    twice = _release(repo)
    first, second = _graded_cells(twice)[:2]
    twice["cells"][second]["metadata"]["nbgrader"]["grade_id"] = \
        twice["cells"][first]["metadata"]["nbgrader"]["grade_id"]
    path = tmp_path / "canvas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("nulls_1_2_images.ipynb", null)
        archive.writestr("twice_3_4_images.ipynb", json.dumps(twice))
        archive.writestr("smithj_5_6_images.ipynb",
                         (repo / "release" / "images" / "images.ipynb").read_bytes())
    result = from_zip(course, path, ["images"])
    assert [s.student for s in result.submissions] == ["smithj"]
    reasons = {u.origin: u.reason for u in result.unplaced}
    assert reasons["canvas.zip:nulls_1_2_images.ipynb"] == (
        f"canvas.zip:nulls_1_2_images.ipynb: expected the nbgrader metadata of cell {cell} to be a "
        f"mapping, got null. The notebook was edited outside Jupyter or by a tool that broke it: "
        f"{USE_RELEASED}")
    assert reasons["canvas.zip:twice_3_4_images.ipynb"].startswith(
        "canvas.zip:twice_3_4_images.ipynb: expected each grade id on one cell")
    assert not (course / "submitted" / "nulls").exists()
    assert not (course / "submitted" / "twice").exists()
