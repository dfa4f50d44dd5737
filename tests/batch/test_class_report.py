"""The class report, opened in headless Chromium as an instructor would open it."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from support.browser import Opened

from autograder.batch.class_report import format_duration, write_class_report
from autograder.batch.outcome import Outcome
from autograder.batch.results import TestScore as Score

SCRIPT_ID = "<script>alert(1)</script>"



def _class() -> list[Outcome]:
    """Three assignments: full and partial scores, a test left for manual grading, failures (one
    from a student whose id is a script), and submissions without a measured time."""
    images = (("test_load", 2), ("test_scale", 1))
    conv = (("test_shape", 1), ("test_filters", 2))
    return [
        Outcome("alice", "images", "graded", tuple(Score(g, p, p) for g, p in images), 3.5),
        Outcome("bob", "images", "reused", (Score("test_load", 1, 2), Score("test_scale", 1, 1)),
                4.0),
        Outcome(SCRIPT_ID, "images", "failed", reason="Cell 2 raised <b>NameError</b> & stopped.",
                worker="host:1"),
        Outcome("alice", "convolution", "unchanged", tuple(Score(g, p, p) for g, p in conv)),
        Outcome("bob", "convolution", "graded",
                (Score("test_shape", 1, 1), Score("test_filters", 0, 2, True)), 20.0),
        Outcome("carol", "convolution", "graded",
                (Score("test_shape", 0, 1), Score("test_filters", 0.5, 2)), 18.5),
        Outcome("carol", "mnist_cnn", "failed", reason="Timed out after 600 s.", seconds=600.0),
    ]


def _write(tmp_path: Path, outcomes: list[Outcome], **overrides) -> Path:
    options = {"title": "CNN module, <week 3>", "budget": "smoke", "workers": 4,
               "wall_seconds": 754.0} | overrides
    return write_class_report(outcomes, tmp_path / "report.html", **options)


def _assert_nonblank_png(path: Path) -> None:
    """``path`` is a PNG whose first rows of pixels are not all one colour."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    assert len(set(pixels[: width * 4 * 200])) > 2, "the screenshot is one flat colour"


def test_the_report_opens_cleanly_with_three_drawn_plots(browser, tmp_path):
    path = _write(tmp_path, _class())
    # The grading times span a log scale, whose default labels would show as raw mathtext.
    assert "mathdefault" not in path.read_text(encoding="utf-8")
    opened = Opened(browser, path)
    try:
        opened.assert_clean()
        opened.assert_plots_drawn()
        shot = opened.page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert shot
        _assert_nonblank_png(tmp_path / "report.png")
    finally:
        opened.close()


def test_the_counts_match_the_outcomes(browser, tmp_path):
    opened = Opened(browser, _write(tmp_path, _class()))
    try:
        assert opened.counts() == {
            "submissions": "7", "graded": "3", "reused": "1", "unchanged": "1", "failed": "2",
            "students": "4", "wall-time": "12 min 34 s", "budget": "smoke", "workers": "4"}
        assert opened.page.title() == "CNN module, <week 3>"
        assert opened.column("assignments", 0) == ["images", "convolution", "mnist_cnn"]
        # Students, scored, failed, mean, median, points possible.
        rows = opened.page.locator("#assignments tbody tr")
        assert [t.strip() for t in rows.nth(0).locator("td").all_inner_texts()[2:]] \
            == ["3", "2", "1", "2.5 (83%)", "2.5 (83%)", "3"]
        assert [t.strip() for t in rows.nth(1).locator("td").all_inner_texts()[2:]] \
            == ["3", "3", "0", "1.5 (50%)", "1 (33%)", "3"]
        assert [t.strip() for t in rows.nth(2).locator("td").all_inner_texts()[2:]] \
            == ["1", "0", "1", "–", "–", "–"]
        assert opened.column("failed", 0) == [SCRIPT_ID, "carol"]
        assert opened.column("failed", 2) == ["Cell 2 raised <b>NameError</b> & stopped.",
                                              "Timed out after 600 s."]
        assert opened.column("attention", 0) == ["bob"]
        assert opened.column("attention", 3) == ["Grade by hand: test_filters"]
        caption = opened.page.locator("#plot-time figcaption").inner_text()
        assert "2 submissions without a measured time left out" in caption
    finally:
        opened.close()


def test_a_script_in_a_student_id_is_shown_as_text_and_never_runs(browser, tmp_path):
    path = _write(tmp_path, _class())
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;NameError&lt;/b&gt; &amp; stopped." in html
    opened = Opened(browser, path)
    try:
        opened.assert_clean()  # no dialog, no error
        assert opened.page.locator("#failed b").count() == 0
        assert SCRIPT_ID in opened.page.locator("#failed").inner_text()
    finally:
        opened.close()


@pytest.mark.parametrize("case", ["no outcomes", "all failed", "one assignment"])
def test_the_report_works_for_small_and_degenerate_classes(browser, tmp_path, case):
    outcomes = {
        "no outcomes": [],
        "all failed": [Outcome(s, "pooling", "failed", reason="No notebook in the upload.")
                       for s in ("ann", "ben")],
        "one assignment": [Outcome("ann", "resnet34", "graded", (Score("test_model", 5, 5),),
                                   90.0)],
    }[case]
    opened = Opened(browser, _write(tmp_path, outcomes, wall_seconds=5.0))
    try:
        opened.assert_clean()
        opened.assert_plots_drawn()
        counts = opened.counts()
        assert counts["submissions"] == str(len(outcomes))
        assert counts["failed"] == str(sum(o.status == "failed" for o in outcomes))
        assert counts["wall-time"] == "5.0 s"
        if case == "no outcomes":
            assert opened.page.locator("#failed-none").is_visible()
            assert "No scored submissions" in opened.page.locator("#plot-scores").inner_text()
        if case == "all failed":
            assert opened.column("failed", 0) == ["ann", "ben"]
        if case == "one assignment":
            assert opened.column("assignments", 0) == ["resnet34"]
            assert opened.page.locator("#attention-none").is_visible()
    finally:
        opened.close()


def test_the_report_replaces_an_older_one_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "report.html").write_text("old")
    _write(tmp_path, _class())
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_durations_read_as_a_person_says_them():
    assert [format_duration(s) for s in (0, 42.46, 60, 185, 3600, 3725)] \
        == ["0.0 s", "42.5 s", "1 min 00 s", "3 min 05 s", "1 h 00 min", "1 h 02 min"]
