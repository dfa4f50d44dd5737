"""The intake of an LMS bulk download: Canvas and Moodle names, attempts, the roster, bad zips."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from autograder.authoring import build
from autograder.batch import intake
from autograder.batch.intake import IntakeError, from_zip, lms

NOON = (2026, 11, 28, 12, 0, 0)


@pytest.fixture
def course(repo: Path, tmp_path: Path) -> Path:
    return build.make_course(repo, tmp_path / "course")


def notebook(repo: Path, assignment_id: str, tag: str = "", folder: str = "release") -> bytes:
    """The notebook of ``assignment_id`` from ``folder``, marked with ``tag`` in its metadata so a
    test can tell which attempt was written."""
    content = json.loads((repo / folder / assignment_id / f"{assignment_id}.ipynb").read_text("utf-8"))
    content["metadata"]["attempt_tag"] = tag
    return json.dumps(content, indent=1).encode("utf-8")


def make_zip(path: Path, members: list[tuple]) -> Path:
    """A zip of ``(name, bytes[, date_time])`` members, compressed as an LMS does."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, *when in members:
            info = zipfile.ZipInfo(name, date_time=when[0] if when else NOON)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def tag_of(path: Path) -> str:
    return json.loads(path.read_text("utf-8"))["metadata"]["attempt_tag"]


def reasons(items) -> dict[str, str]:
    return {item.origin.split(":", 1)[1]: item.reason for item in items}


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("member, lms_name, person, filename, attempt, late", [
    ("smithj_1234_5678_resnet34.ipynb", "Canvas", "smithj", "resnet34.ipynb", 0, False),
    ("smithj_LATE_1234_5678_resnet34-2.ipynb", "Canvas", "smithj", "resnet34-2.ipynb", 2, True),
    ("mary_ann_77_88_Resnet34 (1).ipynb", "Canvas", "mary_ann", "Resnet34 (1).ipynb", 0, False),
    ("Jane Smith_991_assignsubmission_file_/hw_final.ipynb", "Moodle", "991", "hw_final.ipynb", 0, False),
    ("Jane Smith_991_assignsubmission_file_/sub/pooling.ipynb", "Moodle", "991", "pooling.ipynb", 0, False),
    ("Jane Smith_991_assignsubmission_file_pooling-1.ipynb", "Moodle", "991", "pooling-1.ipynb", 1, False),
    ("download/Jane Smith_991_assignsubmission_file_/x.ipynb", "Moodle", "991", "x.ipynb", 0, False),
])
def test_lms_names_are_read(member, lms_name, person, filename, attempt, late):
    entry = lms.parse_member(member)
    assert (entry.lms, entry.person, entry.filename, entry.attempt, entry.late) == (
        lms_name, person, filename, attempt, late)


def test_moodle_keeps_the_full_name_for_the_roster():
    entry = lms.parse_member("Jane Smith_991_assignsubmission_file_/hw.ipynb")
    assert entry.aliases == ("991", "Jane Smith")
    assert entry.describe() == "Moodle participant 991 ('Jane Smith')"


@pytest.mark.parametrize("member", ["resnet34.ipynb", "smithj_resnet34.ipynb",
                                    "Jane Smith_991_assignsubmission_file_/"])
def test_other_names_are_not_read(member):
    assert lms.parse_member(member) is None


@pytest.mark.parametrize("filename, stem", [("Resnet34 (1).ipynb", "resnet34"),
                                            ("resnet34-2.ipynb", "resnet34"),
                                            ("Mnist CNN - Copy.ipynb", "mnist_cnn"),
                                            ("hw_final.ipynb", "hw_final")])
def test_name_stem(filename, stem):
    assert lms.name_stem(filename) == stem


# --- Canvas --------------------------------------------------------------------------------------


def test_canvas_latest_attempt_counts_and_older_ones_are_superseded(repo, course, tmp_path):
    archive = make_zip(tmp_path / "submissions.zip", [
        ("smithj_1234_5678_resnet34.ipynb", notebook(repo, "resnet34", "first"), (2026, 11, 28, 9, 0, 0)),
        ("smithj_1234_5678_resnet34-2.ipynb", notebook(repo, "resnet34", "third"), (2026, 11, 28, 8, 0, 0)),
        ("smithj_1234_5678_resnet34-1.ipynb", notebook(repo, "resnet34", "second"), (2026, 11, 28, 10, 0, 0)),
        ("doej_LATE_4321_8765_resnet34.ipynb", notebook(repo, "resnet34", "late"), (2026, 11, 29, 7, 30, 6)),
    ])
    result = from_zip(course, archive, ["resnet34"])

    assert [(s.student, s.assignment) for s in result.submissions] == [
        ("doej", "resnet34"), ("smithj", "resnet34")]
    smith = result.submissions[1]
    assert smith.notebook == course / "submitted" / "smithj" / "resnet34" / "resnet34.ipynb"
    assert smith.origin == "submissions.zip:smithj_1234_5678_resnet34-2.ipynb"
    assert tag_of(smith.notebook) == "third"
    assert tag_of(result.submissions[0].notebook) == "late"
    assert (course / "submitted" / "doej" / "resnet34" / "timestamp.txt").read_text() == \
        "2026-11-29 07:30:06.000000 UTC"
    assert result.unplaced == ()

    superseded = reasons(result.superseded)
    assert sorted(superseded) == ["smithj_1234_5678_resnet34-1.ipynb", "smithj_1234_5678_resnet34.ipynb"]
    first = superseded["smithj_1234_5678_resnet34.ipynb"]
    assert first.startswith("submissions.zip:smithj_1234_5678_resnet34.ipynb: superseded by "
                            "submissions.zip:smithj_1234_5678_resnet34-2.ipynb")
    assert "attempt -2 comes after the first upload" in first
    assert "attempt -2 comes after -1" in superseded["smithj_1234_5678_resnet34-1.ipynb"]
    assert "Only the latest notebook of smithj for resnet34 is graded." in first


def test_the_newest_entry_counts_when_attempts_are_equal(repo, course, tmp_path):
    folder = "Jane Smith_991_assignsubmission_file_"
    archive = make_zip(tmp_path / "moodle.zip", [
        (f"{folder}/pooling.ipynb", notebook(repo, "pooling", "old"), (2026, 11, 27, 23, 0, 0)),
        (f"{folder}/pooling_v2.ipynb", notebook(repo, "pooling", "new"), (2026, 11, 28, 1, 0, 0)),
    ])
    result = from_zip(course, archive, ["pooling"])
    [submission] = result.submissions
    assert tag_of(submission.notebook) == "new"
    [older] = result.superseded
    assert "uploaded 2026-11-28 01:00:00 UTC, after this one's 2026-11-27 23:00:00 UTC" in older.reason


def test_the_extended_timestamp_gives_the_utc_time(repo, course, tmp_path):
    info = zipfile.ZipInfo("smithj_1_2_images.ipynb", date_time=(2026, 1, 1, 0, 0, 0))
    moment = int(datetime(2026, 11, 28, 8, 0, 0, tzinfo=UTC).timestamp())
    info.extra = b"\x55\x54\x05\x00\x01" + moment.to_bytes(4, "little")  # 0x5455: flags, mtime
    with zipfile.ZipFile(tmp_path / "ut.zip", "w") as archive:
        archive.writestr(info, notebook(repo, "images"))
    result = from_zip(course, tmp_path / "ut.zip", ["images"])
    stamp = result.submissions[0].notebook.parent / "timestamp.txt"
    assert stamp.read_text() == "2026-11-28 08:00:00.000000 UTC"


# --- Moodle --------------------------------------------------------------------------------------


def test_moodle_folders_and_flat_names(repo, course, tmp_path):
    archive = make_zip(tmp_path / "moodle.zip", [
        ("Jane Smith_991_assignsubmission_file_/convolution.ipynb", notebook(repo, "convolution", "jane")),
        ("Li Wei_992_assignsubmission_file_convolution.ipynb", notebook(repo, "convolution", "li")),
        ("Li Wei_992_assignsubmission_onlinetext_onlinetext.html", b"<p>see file</p>"),
    ])
    result = from_zip(course, archive, ["convolution"])
    assert [(s.student, tag_of(s.notebook)) for s in result.submissions] == [("991", "jane"), ("992", "li")]
    [html] = result.unplaced
    assert html.reason == ("moodle.zip:Li Wei_992_assignsubmission_onlinetext_onlinetext.html: expected a "
                           "notebook (.ipynb), got a .html file. Only notebooks are graded: ask 992 for "
                           "the .ipynb (in Jupyter: File > Download).")


def test_system_files_are_skipped_and_other_files_listed(repo, course, tmp_path):
    archive = make_zip(tmp_path / "canvas.zip", [
        ("smithj_1_2_images.ipynb", notebook(repo, "images")),
        ("__MACOSX/._smithj_1_2_images.ipynb", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("Jane Smith_991_assignsubmission_file_/.ipynb_checkpoints/images-checkpoint.ipynb", b"{"),
        ("smithj_1_2_report.pdf", b"%PDF-1.4"),
    ])
    result = from_zip(course, archive, ["images"])
    assert [s.student for s in result.submissions] == ["smithj"]
    assert list(reasons(result.unplaced)) == ["smithj_1_2_report.pdf"]
    assert "expected a notebook (.ipynb), got a .pdf file" in result.unplaced[0].reason


# --- content decides the assignment --------------------------------------------------------------


def test_renamed_notebooks_are_identified_by_content(repo, course, tmp_path):
    archive = make_zip(tmp_path / "canvas.zip", [
        ("smithj_1_2_Resnet34 (1).ipynb", notebook(repo, "resnet34", "browser copy")),
        ("doej_3_4_hw_final.ipynb", notebook(repo, "residual_unit", "renamed", folder="solutions")),
    ])
    result = from_zip(course, archive, ["residual_unit", "resnet34"])
    assert [(s.student, s.assignment, tag_of(s.notebook)) for s in result.submissions] == [
        ("doej", "residual_unit", "renamed"), ("smithj", "resnet34", "browser copy")]
    assert (course / "submitted" / "doej" / "residual_unit" / "residual_unit.ipynb").is_file()


def test_a_notebook_of_another_assignment_is_not_graded(repo, course, tmp_path):
    archive = make_zip(tmp_path / "canvas.zip", [
        ("smithj_1_2_pooling.ipynb", notebook(repo, "convolution")),
        ("doej_3_4_pooling.ipynb", notebook(repo, "pooling")),
    ])
    result = from_zip(course, archive, ["pooling"])
    assert [s.student for s in result.submissions] == ["doej"]
    [wrong] = result.unplaced
    assert wrong.origin == "canvas.zip:smithj_1_2_pooling.ipynb"
    assert wrong.reason == (
        "canvas.zip:smithj_1_2_pooling.ipynb: expected the notebook of assignment 'pooling', got the "
        "notebook of assignment 'convolution' (its test cells are convolution's). It is not graded in "
        "this run: add 'convolution' to the assignments to grade it, or ask smithj for the notebook "
        "of 'pooling'.")
    assert not (course / "submitted" / "smithj").exists()


def test_the_content_wins_over_the_name_when_both_assignments_are_graded(repo, course, tmp_path):
    archive = make_zip(tmp_path / "canvas.zip", [("smithj_1_2_pooling.ipynb", notebook(repo, "convolution"))])
    result = from_zip(course, archive, ["convolution", "pooling"])
    assert [(s.student, s.assignment) for s in result.submissions] == [("smithj", "convolution")]


def test_the_name_breaks_a_tie(repo, course, tmp_path):
    """A notebook left with only the cells every assignment shares (intro, libraries)."""
    content = json.loads(notebook(repo, "pooling"))
    content["cells"] = [c for c in content["cells"]
                        if c["metadata"].get("nbgrader", {}).get("grade_id") in {"intro", "libraries"}]
    bare = json.dumps(content).encode()
    archive = make_zip(tmp_path / "canvas.zip", [("smithj_1_2_pooling.ipynb", bare),
                                                 ("doej_3_4_answers.ipynb", bare)])
    result = from_zip(course, archive, ["convolution", "pooling"])
    assert [(s.student, s.assignment) for s in result.submissions] == [("smithj", "pooling")]
    [tie] = result.unplaced
    assert tie.reason.startswith(
        "canvas.zip:doej_3_4_answers.ipynb: expected the notebook of one of the assignments "
        "'convolution', 'pooling', got a notebook whose cells match 'images' and 'convolution' and")


# --- bad notebooks -------------------------------------------------------------------------------


BAD_NOTEBOOKS = {
    "invalid JSON": (b'{"cells": [', "expected a notebook (JSON), got text that is not JSON "
                                     "(Expecting value at line 1, column 12). It was cut short or "
                                     "edited outside Jupyter: ask the student to open it in Jupyter, "
                                     "save it, and submit it again."),
    "not UTF-8": (b'{"cells": [], "x": "\xff\xfe"}', "expected a notebook in UTF-8, got bytes that "
                                                      "are not UTF-8 (byte 0xff at offset 20)."),
    "empty": (b"", "expected a notebook, got an empty file (0 bytes). The upload or the save failed"),
    "JSON, no notebook": (b'["cells"]', "expected a Jupyter notebook, got JSON that is not one (list)."),
    "no nbgrader cells": (json.dumps({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {},
                                                 "outputs": [], "execution_count": None}],
                                      "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
                          "got a notebook without nbgrader cells (no grade ids in its metadata)."),
}


def test_bad_notebooks_are_unplaced_and_the_rest_goes_on(repo, course, tmp_path):
    members = [(f"p{i}_{i}_{i}_images.ipynb", data) for i, (data, _) in enumerate(BAD_NOTEBOOKS.values())]
    archive = make_zip(tmp_path / "canvas.zip",
                       [*members, ("smithj_1_2_images.ipynb", notebook(repo, "images"))])
    result = from_zip(course, archive, ["images"])
    assert [s.student for s in result.submissions] == ["smithj"]
    got = reasons(result.unplaced)
    for (name, _), (_, wording) in zip(members, BAD_NOTEBOOKS.values()):
        assert got[name].startswith(f"canvas.zip:{name}: ")
        assert wording in got[name], name
    assert not any((course / "submitted" / f"p{i}").exists() for i in range(len(BAD_NOTEBOOKS)))


# --- bad zips: nothing is graded, nothing written -------------------------------------------------


def test_a_missing_zip(course, tmp_path):
    with pytest.raises(IntakeError) as caught:
        from_zip(course, tmp_path / "nowhere.zip", ["images"])
    assert str(caught.value) == (f"{tmp_path / 'nowhere.zip'}: expected a zip file (an LMS bulk download), "
                                 f"got no such file. Check the path.")


def test_a_file_that_is_not_a_zip(course, tmp_path):
    path = tmp_path / "grades.zip"
    path.write_bytes(b"%PDF-1.4 not a zip")
    with pytest.raises(IntakeError, match=r"expected a zip file \(an LMS bulk download\), got a file that "
                                          r"is not a zip \(it starts with b'%PDF-1.4'\)\. Download the "
                                          r"submissions again from the LMS"):
        from_zip(course, path, ["images"])


def test_a_truncated_zip(repo, course, tmp_path):
    whole = make_zip(tmp_path / "whole.zip", [("smithj_1_2_images.ipynb", notebook(repo, "images"))])
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(IntakeError, match=r"cut\.zip: expected a zip file .*, got a zip that is cut short "
                                          r"\(no zip directory at its end; the download was interrupted\)"):
        from_zip(course, cut, ["images"])
    assert not (course / "submitted").exists()


def test_a_zip_with_a_bad_crc(repo, course, tmp_path):
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("doej_3_4_images.ipynb", notebook(repo, "images"))
        archive.writestr("smithj_1_2_images.ipynb", notebook(repo, "images"))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("smithj_1_2_images.ipynb")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + 100] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(IntakeError) as caught:
        from_zip(course, path, ["images"])
    assert str(caught.value).startswith(f"{path}: expected an intact zip, got a corrupt one "
                                        f"(smithj_1_2_images.ipynb: Bad CRC-32")
    assert "Download the submissions again from the LMS" in str(caught.value)
    assert not (course / "submitted").exists()


def test_an_empty_zip(course, tmp_path):
    path = make_zip(tmp_path / "empty.zip", [])
    with pytest.raises(IntakeError, match=r"empty\.zip: expected a zip of submissions, got an empty zip "
                                          r"\(no files in it\)"):
        from_zip(course, path, ["images"])


def test_a_zip_without_notebooks(course, tmp_path):
    path = make_zip(tmp_path / "pdfs.zip", [("smithj_1_2_report.pdf", b"%PDF"), ("__MACOSX/._x.ipynb", b"")])
    with pytest.raises(IntakeError, match=r"pdfs\.zip: expected a zip with notebooks \(\.ipynb\), got none "
                                          r"among its 1 file\(s\): smithj_1_2_report\.pdf\. Check that it "
                                          r"is the download of the notebook assignment\."):
        from_zip(course, path, ["images"])


def test_member_names_never_lead_out_of_submitted(repo, course, tmp_path):
    names = ["../../evil_1_2_images.ipynb", "/etc/evil_1_2_images.ipynb", "..\\evil_1_2_images.ipynb",
             "C:/evil_1_2_images.ipynb", "a/../../evil_1_2_images.ipynb"]
    archive = make_zip(tmp_path / "evil.zip", [(n, notebook(repo, "images")) for n in names]
                       + [("smithj_1_2_images.ipynb", notebook(repo, "images"))])
    with zipfile.ZipFile(archive) as check:
        assert [i.filename for i in check.infolist()][:len(names)] == names
    result = from_zip(course, archive, ["images"])
    assert [s.student for s in result.submissions] == ["smithj"]
    assert len(result.unplaced) == len(names)
    for item in result.unplaced:
        assert "expected a file name inside the zip, got a path that leads out of it" in item.reason
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*ipynb*")
                     if "source" not in p.parts)
    assert written == ["course/submitted/smithj/images/images.ipynb"]


# --- the roster ----------------------------------------------------------------------------------


def test_the_roster_maps_lms_people_to_student_ids(repo, course, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("lms_id,student_id,name\nsmithj,s001,J Smith\n992,s003,\njane smith,s002,\n",
                      encoding="utf-8")
    archive = make_zip(tmp_path / "mixed.zip", [
        ("smithj_1_2_images.ipynb", notebook(repo, "images")),
        ("Jane Smith_991_assignsubmission_file_/images.ipynb", notebook(repo, "images")),
        ("Li Wei_992_assignsubmission_file_images.ipynb", notebook(repo, "images")),
        ("ghost_5_6_images.ipynb", notebook(repo, "images")),
    ])
    result = from_zip(course, archive, ["images"], roster=roster)
    assert [s.student for s in result.submissions] == ["s001", "s002", "s003"]
    assert (course / "submitted" / "s002" / "images" / "images.ipynb").is_file()
    [ghost] = result.unplaced
    assert ghost.reason == ("mixed.zip:ghost_5_6_images.ipynb: not in the roster: expected an lms_id for "
                            "Canvas login 'ghost', got none (looked up 'ghost', '5'). Add a row "
                            "lms_id,student_id for them to the roster.")


@pytest.mark.parametrize("text, wording", [
    ("login,id\nsmithj,s001\n", "expected the columns lms_id,student_id in its first line, got login,id."),
    ("lms_id,student_id\nsmithj,../x\n", "line 2: expected an lms_id and a student_id usable as a folder "
                                         "name, got '../x', which starts with a dot."),
    ("lms_id,student_id\nsmithj,s001\nSMITHJ,s002\n", "line 3: expected each lms_id once, got 'SMITHJ' "
                                                      "for 's001' and 's002'."),
])
def test_a_bad_roster(repo, course, tmp_path, text, wording):
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    archive = make_zip(tmp_path / "c.zip", [("smithj_1_2_images.ipynb", notebook(repo, "images"))])
    with pytest.raises(IntakeError) as caught:
        from_zip(course, archive, ["images"], roster=roster)
    assert wording in str(caught.value)


# --- arguments -----------------------------------------------------------------------------------


def test_an_unknown_assignment(course, tmp_path):
    with pytest.raises(IntakeError) as caught:
        from_zip(course, tmp_path / "any.zip", ["resnet50"])
    assert str(caught.value) == ("assignment: expected one of images, convolution, pooling, mnist_cnn, "
                                 "residual_unit, resnet34, got 'resnet50'. An assignment is a folder "
                                 f"source/<id>/ with <id>.ipynb in the course {Path(course).resolve()}.")


def test_an_unknown_student(repo, course, tmp_path):
    archive = make_zip(tmp_path / "c.zip", [("smithj_1_2_images.ipynb", notebook(repo, "images")),
                                            ("doej_3_4_images.pdf", b"%PDF")])
    with pytest.raises(IntakeError) as caught:
        from_zip(course, archive, ["images"], students=["smithj", "smtihj"])
    assert str(caught.value) == (f"students: expected a submission from 'smtihj', got none in {archive}. "
                                 f"Students found: smithj. Check the spelling, or leave the student out.")
    assert not (course / "submitted").exists()


def test_only_the_students_asked_for(repo, course, tmp_path):
    archive = make_zip(tmp_path / "c.zip", [("smithj_1_2_images.ipynb", notebook(repo, "images")),
                                            ("doej_3_4_images.pdf", b"%PDF")])
    result = from_zip(course, archive, ["images"], students=["smithj"])
    assert [s.student for s in result.submissions] == ["smithj"]
    assert result.unplaced == ()
    assert not (course / "submitted" / "doej").exists()


# --- what is already there -----------------------------------------------------------------------


def test_a_different_notebook_in_submitted_is_replaced_and_shown(repo, course, tmp_path):
    there = course / "submitted" / "smithj" / "images" / "images.ipynb"
    there.parent.mkdir(parents=True)
    there.write_bytes(notebook(repo, "images", "exchange"))
    same = course / "submitted" / "doej" / "images" / "images.ipynb"
    same.parent.mkdir(parents=True)
    same.write_bytes(notebook(repo, "images", "same"))
    archive = make_zip(tmp_path / "c.zip", [("smithj_1_2_images.ipynb", notebook(repo, "images", "zip")),
                                            ("doej_3_4_images.ipynb", notebook(repo, "images", "same"))])
    result = from_zip(course, archive, ["images"])
    assert tag_of(there) == "zip"
    assert [s.student for s in result.replaced] == ["smithj"]

    out = io.StringIO()
    intake.show(result, Console(file=out, width=160))
    lines = out.getvalue().splitlines()
    [smith] = [line for line in lines if "smithj" in line]
    assert "c.zip:smithj_1_2_images.ipynb" in smith
    assert "replaced a different notebook in submitted/" in smith
    [doe] = [line for line in lines if "doej" in line]
    assert "replaced" not in doe
