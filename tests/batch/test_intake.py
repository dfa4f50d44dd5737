"""The intake from nbgrader's submitted/ folder and from the exchange, and what it prints."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from autograder.authoring import build
from autograder.authoring.course import COURSE_ID
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.batch.intake import Intake, IntakeError, from_exchange, from_submitted, show
from autograder.batch.outcome import Submission, Unplaced


@pytest.fixture
def course(repo: Path, tmp_path: Path) -> Path:
    return build.make_course(repo, tmp_path / "course")


def submit(course: Path, repo: Path, student: str, folder: str, assignment_id: str | None = None,
           name: str | None = None, data: bytes | None = None) -> Path:
    """Put the release notebook of ``assignment_id`` (default: ``folder``) at
    ``submitted/<student>/<folder>/<name>``, or ``data`` there."""
    assignment_id = assignment_id or folder
    path = course / "submitted" / student / folder / (name or f"{folder}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        shutil.copy(repo / "release" / assignment_id / f"{assignment_id}.ipynb", path)
    else:
        path.write_bytes(data)
    (path.parent / "timestamp.txt").write_text("2026-11-28 08:00:00.000000 UTC")
    return path


def test_submissions_are_found_and_sorted(repo, course):
    submit(course, repo, "zoe", "images")
    submit(course, repo, "adam", "pooling")
    submit(course, repo, "adam", "images")
    submit(course, repo, "zoe", "resnet34")
    result = from_submitted(course, ["resnet34", "pooling", "images"])
    assert [(s.assignment, s.student) for s in result.submissions] == [
        ("images", "adam"), ("images", "zoe"), ("pooling", "adam"), ("resnet34", "zoe")]
    assert result.submissions[0] == Submission(
        "adam", "images", course / "submitted" / "adam" / "images" / "images.ipynb",
        "submitted/adam/images/images.ipynb")
    assert result.unplaced == result.superseded == ()
    assert result.students == ("adam", "zoe")


def test_only_the_assignments_and_students_asked_for(repo, course):
    submit(course, repo, "zoe", "images")
    submit(course, repo, "adam", "images")
    submit(course, repo, "adam", "pooling")
    result = from_submitted(course, ["images"], students=["adam"])
    assert [(s.assignment, s.student) for s in result.submissions] == [("images", "adam")]


def test_a_notebook_of_another_assignment(repo, course):
    submit(course, repo, "alice", "pooling", assignment_id="convolution")
    result = from_submitted(course, ["pooling"])
    assert result.submissions == ()
    assert result.unplaced == (Unplaced(
        "submitted/alice/pooling/pooling.ipynb",
        "submitted/alice/pooling/pooling.ipynb: expected the notebook of assignment 'pooling', got the "
        "notebook of assignment 'convolution' (its test cells are convolution's). Submit pooling.ipynb "
        "from the pooling assignment."),)


def test_a_renamed_notebook_is_not_graded_and_the_fix_is_named(repo, course):
    submit(course, repo, "bob", "pooling", name="pooling (1).ipynb")
    result = from_submitted(course, ["pooling"])
    assert result.submissions == ()
    [renamed] = result.unplaced
    assert renamed.origin == "submitted/bob/pooling/pooling (1).ipynb"
    assert renamed.reason == (
        "submitted/bob/pooling/pooling (1).ipynb: expected the notebook to be named pooling.ipynb, got "
        "'pooling (1).ipynb'. nbgrader grades only pooling.ipynb: rename it to pooling.ipynb in "
        "submitted/bob/pooling/ (or ask bob to submit it under that name). It is the notebook of "
        "assignment 'pooling'.")


def test_a_notebook_next_to_the_graded_one_is_listed(repo, course):
    submit(course, repo, "bob", "pooling")
    submit(course, repo, "bob", "pooling", name="pooling_final.ipynb")
    result = from_submitted(course, ["pooling"])
    assert [s.student for s in result.submissions] == ["bob"]
    [extra] = result.unplaced
    assert extra.reason == ("submitted/bob/pooling/pooling_final.ipynb: not graded: nbgrader grades only "
                            "pooling.ipynb, which is next to it. If this is bob's work, replace "
                            "pooling.ipynb with it.")


def test_a_folder_without_a_notebook(course):
    folder = course / "submitted" / "carol" / "images"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-11-28 08:00:00.000000 UTC")
    result = from_submitted(course, ["images"])
    assert result.unplaced == (Unplaced(
        "submitted/carol/images/",
        "submitted/carol/images/: expected images.ipynb, got no notebook (timestamp.txt). Ask carol to "
        "submit images.ipynb again."),)


@pytest.mark.parametrize("data, wording", [
    (b"", "expected a notebook, got an empty file (0 bytes)."),
    (b"\x89PNG\r\n\x1a\n",
     "expected a notebook in UTF-8, got bytes that are not UTF-8 (byte 0x89 at offset 0)."),
    (b'{"cells": [}', "expected a notebook (JSON), got text that is not JSON (Expecting value at line 1, "
                      "column 12)."),
])
def test_a_broken_notebook_is_not_graded(repo, course, data, wording):
    submit(course, repo, "dave", "images", data=data)
    submit(course, repo, "erin", "images")
    result = from_submitted(course, ["images"])
    assert [s.student for s in result.submissions] == ["erin"]
    [broken] = result.unplaced
    assert broken.reason.startswith(f"submitted/dave/images/images.ipynb: {wording}")
    assert broken.reason.endswith("ask the student to open it in Jupyter, save it, and submit it again.")


def test_an_unknown_assignment(course):
    with pytest.raises(IntakeError) as caught:
        from_submitted(course, ["images", "lenet"])
    assert str(caught.value) == ("assignment: expected one of images, convolution, pooling, mnist_cnn, "
                                 "residual_unit, resnet34, got 'lenet'. An assignment is a folder "
                                 f"source/<id>/ with <id>.ipynb in the course {course.resolve()}.")


def test_an_unknown_student(repo, course):
    submit(course, repo, "alice", "images")
    submit(course, repo, "bob", "images")
    with pytest.raises(IntakeError) as caught:
        from_submitted(course, ["images"], students=["alice", "charlie"])
    assert str(caught.value) == (
        f"students: expected a submission from 'charlie', got none in {course / 'submitted'} for images. "
        f"Students found: alice. Check the spelling, or leave the student out.")


def test_a_folder_that_is_not_a_course(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(IntakeError, match=r"expected source/images/images\.ipynb, got no such file\. Run "
                                          r"the intake in a course folder"):
        from_submitted(tmp_path / "elsewhere", ["images"])


def test_show_prints_the_mapping_then_what_is_not_graded(repo, course):
    submit(course, repo, "alice", "pooling", assignment_id="convolution")
    submit(course, repo, "bob", "pooling")
    result = from_submitted(course, ["pooling"])
    result = Intake(result.submissions, result.unplaced, (Unplaced(
        "c.zip:bob_1_2_pooling-1.ipynb", "c.zip:bob_1_2_pooling-1.ipynb: superseded by "
                                          "c.zip:bob_1_2_pooling-2.ipynb (attempt -2 comes after -1)."),))
    out = io.StringIO()
    show(result, Console(file=out, width=160))
    text = out.getvalue()
    assert text.startswith("1 submission(s) from 1 student(s) to grade; 1 file(s) not graded; 1 older "
                           "attempt(s) superseded.")
    [bob] = [line for line in text.splitlines() if "bob " in line and "pooling" in line]
    assert "submitted/bob/pooling/pooling.ipynb" in bob
    assert text.index("Submissions to grade") < text.index("Not graded (1)") < text.index(
        "Superseded attempts (1)")
    assert ("\nsubmitted/alice/pooling/pooling.ipynb\n"
            "    expected the notebook of assignment 'pooling'") in text
    assert "    superseded by c.zip:bob_1_2_pooling-2.ipynb" in text
    assert max(len(line) for line in text.splitlines()) <= 160


@pytest.mark.slow
def test_from_exchange_collects_what_students_submitted(repo, tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    monkeypatch.setenv("CNNKIT_EXCHANGE", str(exchange))
    course = build.make_course(repo, tmp_path / "course")
    run_nbgrader(["generate_assignment", "images", "--force"], course)
    run_nbgrader(["release_assignment", "images", "--force"], course)

    flags = [f"--course={COURSE_ID}", f"--Exchange.root={exchange}"]
    for student in ("alice", "bob"):
        home = tmp_path / student
        home.mkdir()
        run_nbgrader(["fetch_assignment", "images", *flags], home)
        if student == "bob":
            (home / "images" / "images.ipynb").rename(home / "images" / "Images (1).ipynb")
        run_nbgrader(["submit", "images", f"--student={student}", *flags], home)

    result = from_exchange(course, ["images", "pooling"])
    assert [(s.student, s.assignment) for s in result.submissions] == [("alice", "images")]
    assert (course / "submitted" / "alice" / "images" / "timestamp.txt").is_file()
    [renamed] = result.unplaced
    assert renamed.origin == "submitted/bob/images/Images (1).ipynb"
    assert "nbgrader grades only images.ipynb: rename it to images.ipynb" in renamed.reason

    assert from_exchange(course, ["images"], students=["alice"]).submissions == result.submissions


@pytest.mark.slow
def test_from_exchange_without_the_exchange_or_the_course(repo, tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("CNNKIT_EXCHANGE", str(exchange))
    course = build.make_course(repo, tmp_path / "course")
    with pytest.raises(IntakeError) as caught:
        from_exchange(course, ["images"])
    assert str(caught.value) == (f"exchange: expected a writable exchange folder, got none (Unwritable "
                                 f"directory, please contact your instructor: {exchange}). Set "
                                 f"CNNKIT_EXCHANGE to the exchange the students submit to (it must exist).")
    exchange.mkdir()
    with pytest.raises(IntakeError) as caught:
        from_exchange(course, ["images"])
    assert str(caught.value) == (f"exchange: expected the course's inbound folder, got none (Course not "
                                 f"found: {exchange / COURSE_ID / 'inbound'}). Nothing was released or "
                                 f"submitted there: release the assignment first, or set CNNKIT_EXCHANGE "
                                 f"to the exchange the students submit to.")
