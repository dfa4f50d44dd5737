"""The batch grader's CSV files: the grades for an LMS import, and a summary per test.

``grades.csv`` has one row per student and assignment and one column per graded test::

    student_id,assignment,images:test_load,...,score,max_score,percent,status,reason
    alice,images,2,...,3,3,100,graded,

Test ids repeat across assignments, so a test column is named ``<assignment>:<grade_id>``. Columns
are grouped by assignment in the course's order and, within one, in notebook order; a row leaves
the other assignments' test cells empty. Numbers are written as short as they read (``3``, ``1.5``).

Every text cell (ids, statuses, reasons, review flags, notes, test names) goes through
:func:`~autograder.batch.sanitize.for_csv`: the text comes from the submissions, and a spreadsheet
opening the file must neither run it as a formula nor pass a control character on.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import course
from autograder.batch.atomic import write_atomic
from autograder.batch.outcome import Outcome
from autograder.batch.results import TestScore
from autograder.batch.sanitize import for_csv

#: The columns before the test columns, and after them.
LEADING_COLUMNS: tuple[str, ...] = ("student_id", "assignment")
TRAILING_COLUMNS: tuple[str, ...] = ("score", "max_score", "percent", "status", "reason", "review",
                                     "notes")

#: The columns of the per-test summary.
SUMMARY_COLUMNS: tuple[str, ...] = ("assignment", "grade_id", "column", "max_score", "students",
                                    "full_points", "pass_rate", "mean_score", "needs_manual_grade")


@dataclass(frozen=True)
class GradeCellSummary:
    """How the class did on one test (one nbgrader grade cell) of one assignment."""

    assignment: str
    """The assignment id."""
    grade_id: str
    """The test cell's grade id."""
    max_score: float
    """Points possible (the largest seen, should submissions disagree)."""
    students: int
    """Scored submissions that have this test."""
    full_points: int
    """Of those, how many got its full points."""
    mean_score: float
    """The mean points given, over those submissions."""
    needs_manual_grade: int
    """Of those, how many nbgrader left for a person to grade."""

    @property
    def column(self) -> str:
        """The test's column name in ``grades.csv``: ``<assignment>:<grade_id>``."""
        return f"{self.assignment}:{self.grade_id}"

    @property
    def pass_rate(self) -> float | None:
        """The fraction of students with full points; None when no submission has this test."""
        return self.full_points / self.students if self.students else None


def assignment_rank(assignment_id: str) -> tuple[int, str]:
    """A sort key that puts assignments in the course's order, and ids it lacks last, sorted."""
    return course.current().rank(assignment_id)


def assignment_order(assignment_ids: Iterable[str]) -> list[str]:
    """The distinct ``assignment_ids`` in the order of :func:`assignment_rank`."""
    return sorted(set(assignment_ids), key=assignment_rank)


def is_scored(outcome: Outcome) -> bool:
    """Whether ``outcome`` has a score to count: it did not fail and has graded tests.

    A submission with no graded tests scores 0 of 0, which is an error, not a pass.
    """
    return outcome.status != "failed" and outcome.max_score > 0


def has_full_points(score: float, max_score: float) -> bool:
    """Whether ``score`` is the whole of ``max_score`` (up to rounding in the gradebook)."""
    return score >= max_score - 1e-9


def grade_columns(outcomes: Iterable[Outcome]) -> list[tuple[str, str]]:
    """The ``(assignment, grade_id)`` of every graded test, in course then notebook order.

    Within one assignment the order is that of the submission with the most tests, then any test
    only other submissions have, in the order first seen.
    """
    by_assignment: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.status != "failed":
            by_assignment.setdefault(outcome.assignment, []).append(outcome)
    columns: list[tuple[str, str]] = []
    for assignment_id in assignment_order(by_assignment):
        group = sorted(by_assignment[assignment_id], key=lambda o: -len(o.tests))
        seen: dict[str, None] = {}
        for outcome in group:
            seen.update((t.grade_id, None) for t in outcome.tests if t.grade_id not in seen)
        columns.extend((assignment_id, grade_id) for grade_id in seen)
    return columns


def assignment_max_scores(outcomes: Iterable[Outcome]) -> dict[str, float]:
    """The points possible of each assignment, the most common among its scored submissions."""
    counts: dict[str, Counter[float]] = {}
    for outcome in outcomes:
        if is_scored(outcome):
            counts.setdefault(outcome.assignment, Counter())[outcome.max_score] += 1
    return {a: c.most_common(1)[0][0] for a, c in counts.items()}


def summarize_tests(outcomes: Sequence[Outcome]) -> list[GradeCellSummary]:
    """One :class:`GradeCellSummary` per graded test, in the order of :func:`grade_columns`."""
    found: dict[tuple[str, str], list[TestScore]] = {key: [] for key in grade_columns(outcomes)}
    for outcome in outcomes:
        if is_scored(outcome):
            for test in outcome.tests:
                found[(outcome.assignment, test.grade_id)].append(test)
    summaries = []
    for (assignment_id, grade_id), tests in found.items():
        summaries.append(GradeCellSummary(
            assignment=assignment_id,
            grade_id=grade_id,
            max_score=max((t.max_score for t in tests), default=0.0),
            students=len(tests),
            full_points=sum(has_full_points(t.score, t.max_score) for t in tests),
            mean_score=sum(t.score for t in tests) / len(tests) if tests else 0.0,
            needs_manual_grade=sum(t.needs_manual_grade for t in tests),
        ))
    return summaries


def format_number(value: float, digits: int = 6) -> str:
    """``value`` rounded to ``digits`` decimals and written without trailing zeros.

    >>> format_number(3.0), format_number(1.5), format_number(2 / 3, 2)
    ('3', '1.5', '0.67')
    """
    if not math.isfinite(value):
        raise ValueError(f"format_number: expected a finite number, got {value!r}.")
    rounded = round(float(value), digits)
    if rounded == int(rounded):
        return str(int(rounded))
    return repr(rounded)


def percent(score: float, max_score: float) -> float | None:
    """``score`` as a percentage of ``max_score``; None when nothing was possible."""
    return 100 * score / max_score if max_score > 0 else None


def grade_rows(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of ``grades.csv``, as strings, text cells made safe for a
    spreadsheet (:func:`~autograder.batch.sanitize.for_csv`).

    Rows are sorted by assignment in the course's order, then by student. A failed submission has
    empty test cells, score 0, the assignment's points possible when other submissions show them
    (else an empty cell), and its reason.
    """
    _check_unique(outcomes)
    columns = grade_columns(outcomes)
    header = [*LEADING_COLUMNS, *(for_csv(f"{a}:{g}") for a, g in columns), *TRAILING_COLUMNS]
    position = {key: i for i, key in enumerate(columns)}
    possible = assignment_max_scores(outcomes)
    rows = []
    for outcome in sorted(outcomes, key=lambda o: (assignment_rank(o.assignment), o.student)):
        cells = [""] * len(columns)
        if outcome.status == "failed":
            score, max_score = 0.0, possible.get(outcome.assignment)
        else:
            for test in outcome.tests:
                cells[position[(outcome.assignment, test.grade_id)]] = format_number(test.score)
            score, max_score = outcome.score, outcome.max_score
        share = percent(score, max_score) if max_score is not None else None
        rows.append([
            for_csv(outcome.student), for_csv(outcome.assignment), *cells,
            format_number(score),
            "" if max_score is None else format_number(max_score),
            "" if share is None else format_number(share, 2),
            for_csv(outcome.status), for_csv(outcome.reason), for_csv("; ".join(outcome.review)),
            for_csv("; ".join(outcome.notes)),
        ])
    return header, rows


def summary_rows(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the per-test summary, one row per graded test."""
    rows = []
    for s in summarize_tests(outcomes):
        rate = s.pass_rate
        rows.append([
            for_csv(s.assignment), for_csv(s.grade_id), for_csv(s.column),
            format_number(s.max_score), str(s.students),
            str(s.full_points), "" if rate is None else format_number(rate, 4),
            format_number(s.mean_score, 4) if s.students else "", str(s.needs_manual_grade),
        ])
    return list(SUMMARY_COLUMNS), rows


def write_grades_csv(outcomes: Sequence[Outcome], path: Path) -> Path:
    """Write the grades of ``outcomes`` to ``path`` as a CSV for an LMS import; return ``path``.

    See the module's docstring for the columns. The file is UTF-8 with ``\\n`` line ends, always
    has its header, and replaces ``path`` at once, so a reader never sees half a file.
    """
    return _write_csv(Path(path), *grade_rows(outcomes))


def write_test_summary_csv(outcomes: Sequence[Outcome], path: Path) -> Path:
    """Write one row per graded test to ``path``: points possible, how many students got full
    points, the pass rate and the mean score, and how many need manual grading; return ``path``."""
    return _write_csv(Path(path), *summary_rows(outcomes))


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return write_atomic(path, buffer.getvalue())


def _check_unique(outcomes: Iterable[Outcome]) -> None:
    seen: set[tuple[str, str]] = set()
    for outcome in outcomes:
        key = (outcome.student, outcome.assignment)
        if key in seen:
            raise ValueError(f"outcomes: expected one per student and assignment, got more than "
                             f"one for {outcome.student!r}/{outcome.assignment!r}. Keep the latest.")
        seen.add(key)
