"""The sample class through the real `nbgrader autograde` and `generate_feedback`.

One session-wide run grades the sample class (tests/conftest.py: every submission but the
training assignments' further mistakes, which the ``matrix`` tier grades); the tests below read
what it recorded.
"""

import html
import json
import re

import pytest

from autograder.authoring.course import ASSIGNMENT_IDS, assignment
from autograder.authoring.samples.sample_class import ALTERNATIVE, REFERENCE, TAMPERING, UNMODIFIED

pytestmark = pytest.mark.slow


def feedback_text(course, graded_item):
    sub = graded_item.submission
    path = course / "feedback" / sub.student / sub.assignment / f"{sub.assignment}.html"
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


def section(text, grade_id):
    """The feedback text of one test cell: from its header to the next cell's header."""
    start = text.index(f"Grade cell: {grade_id}")
    ends = [text.find(marker, start + 1) for marker in ("Grade cell:", "Student's answer")]
    ends = [e for e in ends if e > 0]
    return text[start:min(ends) if ends else len(text)]


def of(graded_class, student):
    return [g for g in graded_class[1] if g.submission.student == student]


def test_every_assignment_was_graded_for_the_reference(graded_class):
    assert sorted(g.submission.assignment for g in of(graded_class, REFERENCE)) == sorted(ASSIGNMENT_IDS)


def test_the_reference_solutions_get_full_marks(graded_class):
    for item in of(graded_class, REFERENCE):
        assert item.result.passed_all, (item.submission.assignment, item.result.tests)


def test_unmodified_release_notebooks_get_zero(graded_class):
    items = of(graded_class, UNMODIFIED)
    assert len(items) == len(ASSIGNMENT_IDS)
    for item in items:
        assert item.result.max_score > 0 and item.result.score == 0, item.result.tests


def test_correct_answers_written_differently_get_full_marks(graded_class):
    items = of(graded_class, ALTERNATIVE)
    assert {g.submission.assignment for g in items} == set(ASSIGNMENT_IDS)
    for item in items:
        assert item.result.passed_all, (item.submission.description, item.result.tests)


def _check_mistakes(course, mistakes):
    for item in mistakes:
        scores = item.result.by_test()
        variant = item.submission.variant
        for grade_id in variant.loses:
            assert scores[grade_id].score == 0, (variant.assignment, variant.slug, grade_id)
        assert item.result.score < item.result.max_score
        words = section(feedback_text(course, item), variant.loses[0])
        assert variant.says in words, (variant.assignment, variant.slug, words[-600:])


def _mistakes(graded):
    return [g for g in graded if g.submission.variant is not None and not g.submission.expect_full_marks]


def test_each_mistake_loses_the_test_aimed_at_it_and_the_feedback_names_it(graded_class):
    course, graded = graded_class
    mistakes = _mistakes(graded)
    assert len(mistakes) >= 4 * (len(ASSIGNMENT_IDS) - 1)
    assert {m.submission.assignment for m in mistakes} == set(ASSIGNMENT_IDS) - {"resnet34"}
    _check_mistakes(course, mistakes)


@pytest.mark.matrix
def test_each_further_training_mistake_loses_its_test(further_training_mistakes):
    course, graded = further_training_mistakes
    mistakes = _mistakes(graded)
    assert len(mistakes) == len(graded) >= 10
    assert {m.submission.assignment for m in mistakes} == {"mnist_cnn", "resnet34"}
    _check_mistakes(course, mistakes)


def hidden_lines(repo, assignment_id):
    notebook = json.loads((repo / "source" / assignment_id / assignment(assignment_id).notebook)
                          .read_text(encoding="utf-8"))
    lines = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        for region in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S):
            lines += [line.strip() for line in region.splitlines() if len(line.strip()) > 25]
    return lines


def test_feedback_never_shows_hidden_test_code(repo, graded_class):
    course, graded = graded_class
    for item in graded:
        text = feedback_text(course, item)
        assert "HIDDEN TESTS" not in text
        for line in hidden_lines(repo, item.submission.assignment):
            assert line not in text, (item.submission.student, item.submission.assignment, line)


def test_a_deleted_test_cell_is_put_back_and_graded(graded_class):
    [item] = [g for g in of(graded_class, f"{TAMPERING}-deleted-test")]
    tests = item.result.by_test()
    assert tests["test_load_images"].max_score == 2 and not tests["test_load_images"].needs_manual_grade
    assert item.result.passed_all


def test_a_stripped_test_cell_still_fails_a_wrong_answer(graded_class):
    [item] = [g for g in of(graded_class, f"{TAMPERING}-stripped-test")]
    tests = item.result.by_test()
    assert tests["test_load_images"].score == 0 and not tests["test_load_images"].needs_manual_grade


def test_a_warning_on_stderr_costs_no_points(graded_class):
    [item] = [g for g in of(graded_class, f"{TAMPERING}-warns")]
    assert item.result.passed_all, item.result.tests


def test_the_warning_submission_really_writes_to_stderr_in_test_cells(repo, tmp_path):
    """Without the kit's configuration, the same notebook's test cells have stderr output: the
    test above would fail on plain nbgrader."""
    import nbformat
    from nbclient import NotebookClient

    from autograder.authoring.samples.catalogue import TAMPERED

    [variant] = [v for v in TAMPERED if v.slug == "warns"]
    notebook = variant.apply(nbformat.read(repo / "solutions" / "residual_unit" / "residual_unit.ipynb", 4))
    NotebookClient(notebook, timeout=300, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    stderr_in_tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")
                       and any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs)]
    assert stderr_in_tests
