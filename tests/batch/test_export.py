"""The grades CSV for an LMS import, and the per-test summary."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from autograder.batch import atomic, export
from autograder.batch.export import format_number, write_grades_csv, write_test_summary_csv
from autograder.batch.outcome import Outcome
from autograder.batch.results import TestScore as Score

UGLY_ID = 'Zoë "Z, the 2nd" 李\tx'


def _read(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _class() -> list[Outcome]:
    """Two assignments given in the reverse of the course's order, test ids not sorted, one id
    (``test_shape``) in both, a partial score, a failed submission."""
    return [
        Outcome("bob", "convolution", "graded",
                (Score("test_shape", 1, 1), Score("test_filters", 0.5, 2)), 12.0),
        Outcome("alice", "convolution", "reused",
                (Score("test_shape", 1, 1), Score("test_filters", 2, 2)), 11.0),
        Outcome("carol", "convolution", "failed", reason="Timed out after 600 s."),
        Outcome("bob", "images", "unchanged",
                (Score("test_shape", 2, 2), Score("test_scale", 1, 1), Score("test_load", 0, 3))),
        Outcome("alice", "images", "graded",
                (Score("test_shape", 2, 2), Score("test_scale", 1, 1), Score("test_load", 3, 3))),
    ]


def test_columns_group_tests_by_assignment_in_course_then_notebook_order(tmp_path):
    header = _read(write_grades_csv(_class(), tmp_path / "grades.csv"))[0]
    assert header == [
        "student_id", "assignment",
        "images:test_shape", "images:test_scale", "images:test_load",
        "convolution:test_shape", "convolution:test_filters",
        "score", "max_score", "percent", "status", "reason", "review", "notes",
    ]


def test_rows_are_sorted_by_assignment_in_course_order_then_student(tmp_path):
    rows = _read(write_grades_csv(_class(), tmp_path / "grades.csv"))[1:]
    assert [(r[0], r[1]) for r in rows] == [
        ("alice", "images"), ("bob", "images"),
        ("alice", "convolution"), ("bob", "convolution"), ("carol", "convolution"),
    ]


def test_a_row_fills_its_own_tests_and_leaves_other_assignments_empty(tmp_path):
    table = _read(write_grades_csv(_class(), tmp_path / "grades.csv"))
    rows = {(r[0], r[1]): dict(zip(table[0], r)) for r in table[1:]}
    bob_images = rows[("bob", "images")]
    assert [bob_images[c] for c in ("images:test_shape", "images:test_scale", "images:test_load")] \
        == ["2", "1", "0"]
    assert bob_images["convolution:test_shape"] == bob_images["convolution:test_filters"] == ""
    assert (bob_images["score"], bob_images["max_score"], bob_images["percent"]) == ("3", "6", "50")
    bob_conv = rows[("bob", "convolution")]
    assert bob_conv["images:test_shape"] == ""
    assert (bob_conv["convolution:test_filters"], bob_conv["score"], bob_conv["percent"]) \
        == ("0.5", "1.5", "50")
    assert (bob_conv["status"], bob_conv["reason"]) == ("graded", "")


def test_a_failed_row_has_empty_tests_score_0_and_its_reason(tmp_path):
    table = _read(write_grades_csv(_class(), tmp_path / "grades.csv"))
    carol = dict(zip(table[0], table[-1]))
    assert [carol[c] for c in table[0][2:7]] == [""] * 5
    # The points possible are known from the other convolution submissions.
    assert (carol["score"], carol["max_score"], carol["percent"]) == ("0", "3", "0")
    assert (carol["status"], carol["reason"]) == ("failed", "Timed out after 600 s.")


def test_a_failed_row_leaves_max_score_empty_when_nothing_shows_it(tmp_path):
    outcomes = [Outcome("dave", "pooling", "failed", reason="Not a notebook.")]
    table = _read(write_grades_csv(outcomes, tmp_path / "grades.csv"))
    assert table == [
        ["student_id", "assignment", "score", "max_score", "percent", "status", "reason", "review",
         "notes"],
        ["dave", "pooling", "0", "", "", "failed", "Not a notebook.", "", ""],
    ]


def test_numbers_are_written_without_trailing_zeros():
    assert [format_number(x) for x in (3.0, 1.5, 0.0, -0.0, 100.0, 2.25)] \
        == ["3", "1.5", "0", "0", "100", "2.25"]
    assert format_number(200 / 3, 2) == "66.67"
    assert format_number(1 / 3) == "0.333333"
    with pytest.raises(ValueError, match="expected a finite number, got nan"):
        format_number(float("nan"))


def test_a_partial_percent_is_rounded_to_two_decimals(tmp_path):
    outcomes = [Outcome("eve", "pooling", "graded", (Score("test_a", 2, 3),))]
    row = _read(write_grades_csv(outcomes, tmp_path / "grades.csv"))[1]
    assert row[-7:] == ["2", "3", "66.67", "graded", "", "", ""]


def test_an_ugly_student_id_and_reason_round_trip_through_csv_reader(tmp_path):
    reason = 'Cell 3 raised ValueError: "bad, shape"\nSee line 2.'
    outcomes = [Outcome(UGLY_ID, "images", "graded", (Score("test_a", 1, 1),)),
                Outcome(UGLY_ID, "pooling", "failed", reason=reason)]
    table = _read(write_grades_csv(outcomes, tmp_path / "grades.csv"))
    assert [r[0] for r in table[1:]] == [UGLY_ID, UGLY_ID]
    assert table[2][-3] == reason
    assert all(len(r) == len(table[0]) for r in table)


def test_the_file_is_utf8_with_unix_newlines(tmp_path):
    outcomes = [Outcome(UGLY_ID, "images", "graded", (Score("test_a", 1, 1),))]
    data = write_grades_csv(outcomes, tmp_path / "grades.csv").read_bytes()
    assert "李".encode() in data
    assert b"\r" not in data and data.endswith(b"\n")


def test_the_header_is_written_with_no_rows(tmp_path):
    path = write_grades_csv([], tmp_path / "grades.csv")
    assert path.read_text(encoding="utf-8") \
        == "student_id,assignment,score,max_score,percent,status,reason,review,notes\n"


def test_two_outcomes_for_one_student_and_assignment_are_an_error(tmp_path):
    outcomes = [Outcome("bob", "images", "graded", (Score("test_a", 1, 1),)),
                Outcome("bob", "images", "failed", reason="again")]
    with pytest.raises(ValueError, match="expected one per student and assignment, got more than "
                                         "one for 'bob'/'images'"):
        write_grades_csv(outcomes, tmp_path / "grades.csv")
    assert not (tmp_path / "grades.csv").exists()


def test_writing_replaces_the_file_at_once_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "out" / "grades.csv"
    write_grades_csv(_class(), path)
    first = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_grades_csv([], path)
    assert path.read_bytes() == first
    assert os.listdir(path.parent) == ["grades.csv"]

    monkeypatch.undo()
    write_grades_csv([], path)
    assert path.read_text(encoding="utf-8").count("\n") == 1
    assert os.listdir(path.parent) == ["grades.csv"]


def test_the_summary_has_one_row_per_test_with_its_pass_rate(tmp_path):
    outcomes = [*_class(),
                Outcome("dan", "images", "graded", (Score("test_shape", 2, 2),
                                                    Score("test_scale", 0, 1, True),
                                                    Score("test_load", 3, 3)))]
    table = _read(write_test_summary_csv(outcomes, tmp_path / "tests.csv"))
    assert table[0] == list(export.SUMMARY_COLUMNS)
    rows = {r[2]: dict(zip(table[0], r)) for r in table[1:]}
    assert list(rows) == ["images:test_shape", "images:test_scale", "images:test_load",
                          "convolution:test_shape", "convolution:test_filters"]
    # The failed submission counts in neither the students nor the pass rate.
    assert rows["convolution:test_filters"] == {
        "assignment": "convolution", "grade_id": "test_filters",
        "column": "convolution:test_filters", "max_score": "2", "students": "2", "full_points": "1",
        "pass_rate": "0.5",
        "mean_score": "1.25", "needs_manual_grade": "0"}
    assert (rows["images:test_load"]["pass_rate"], rows["images:test_load"]["mean_score"]) \
        == ("0.6667", "2")
    assert rows["images:test_scale"]["needs_manual_grade"] == "1"


def test_the_summary_header_is_written_with_no_rows(tmp_path):
    table = _read(write_test_summary_csv([], tmp_path / "tests.csv"))
    assert table == [list(export.SUMMARY_COLUMNS)]


def test_review_reasons_and_notes_have_their_own_columns(tmp_path):
    outcomes = [Outcome("erin", "pooling", "graded", (Score("test_max", 2, 2),), 3.0,
                        review=("cell 4, line 1: calls os._exit()", "cell 5: a locked cell was edited"),
                        notes=("cell 7 (test_max) ran longer than the per-cell limit and was stopped.",))]
    row = dict(zip(*_read(write_grades_csv(outcomes, tmp_path / "grades.csv"))))
    assert row["review"] == "cell 4, line 1: calls os._exit(); cell 5: a locked cell was edited"
    assert row["notes"].startswith("cell 7 (test_max) ran longer")
