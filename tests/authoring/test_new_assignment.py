"""A seventh assignment, written here from scratch as an instructor would: scaffolded with
``cnnkit new``, given a check of the course's own (a ``Conv2DTranspose``, which the kit does not
know), generated, put in the student kit, self-checked, graded by ``cnnkit grade``'s machinery
and by the submission service.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest
from support.service import Service, issue

from autograder.authoring import build, course, student_kit
from autograder.authoring.nbgrader_run import run_nbgrader
from autograder.authoring.self_check import check
from autograder.batch.grade import Settings, grade_class
from autograder.batch.outcome import Submission
from autograder.cli.main import main
from autograder.judge.verdict import TEST_ERROR

pytestmark = pytest.mark.slow

ID = "transpose"

COURSE_CHECKS = '''"""The course's own checks."""

import numpy as np

from autograder.checks import CheckFailure, observe


def transpose_output(layer, input_shape, *, name, filters, kernel_size, strides):
    """Applied to a random batch of ``input_shape``, ``layer`` gives the transposed convolution
    (padding "valid") with its own kernel and bias."""
    x = observe.draw(input_shape, fresh=observe.is_remote(layer), seed=7)
    try:
        got = observe.call(name, layer, x)
    except observe.ObservedError as exc:
        raise CheckFailure(f"{name}(x)", "an output tensor", f"{exc.kind}: {exc.message}") from None
    found = observe.layer(name, layer, weights=True)
    if "Conv2DTranspose" not in found.keras_classes:
        raise CheckFailure(f"type of {name}", "keras.layers.Conv2DTranspose", found.type_name,
                           "Create it with keras.layers.Conv2DTranspose(...).")
    kernel, bias = found.weights["kernel"], found.weights.get("bias")
    b, h, w, _ = input_shape
    want = np.zeros((b, (h - 1) * strides + kernel_size, (w - 1) * strides + kernel_size, filters))
    for i in range(h):
        for j in range(w):
            patch = np.einsum("bc,klfc->bklf", x[:, i, j, :], kernel)
            want[:, i * strides:i * strides + kernel_size, j * strides:j * strides + kernel_size] += patch
    if bias is not None:
        want += bias
    if got.shape != want.shape:
        raise CheckFailure(f"shape of {name}(x)", want.shape, got.shape,
                           "A transposed convolution multiplies the height and width by the stride.")
    if not np.allclose(got.values, want, atol=1e-4):
        raise CheckFailure(f"{name}(x)", "the transposed convolution with its own weights",
                           "other values")
'''

UP_ANSWER = "### BEGIN SOLUTION\nup = keras.layers.Conv2DTranspose(3, 2, strides=2)\n### END SOLUTION\n"
UP_VISIBLE = ("# up: a Conv2DTranspose with 3 filters, kernel 2, stride 2.\n"
              "course_checks.transpose_output(up, (2, 5, 5, 4), name='up', filters=3, kernel_size=2, "
              "strides=2)\n")
UP_HIDDEN = ("# up: its type and stride, read as plain Python (hidden).\n### BEGIN HIDDEN TESTS\n"
             "assert isinstance(up, keras.layers.Conv2DTranspose), 'up must be a Conv2DTranspose'\n"
             "assert up.strides == (2, 2), f'up.strides: expected (2, 2), got {up.strides}'\n"
             "### END HIDDEN TESTS\n")


def _cell(source: str, grade_id: str, *, points: float | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.pop("id", None)
    cell.metadata["nbgrader"] = {"grade": points is not None, "grade_id": grade_id,
                                 "locked": points is not None, "schema_version": 3,
                                 "solution": points is None, "task": False,
                                 **({"points": points} if points is not None else {})}
    return cell


@pytest.fixture(scope="module")
def new_course(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course with the seventh assignment written, generated and self-checked."""
    root = build.make_course(repo, tmp_path_factory.mktemp("course") / "course")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().replace('c.CNNKit.course_checks = ""',
                                                 'c.CNNKit.course_checks = "course_checks"'))
    (root / "course_checks.py").write_text(COURSE_CHECKS)
    assert main(["new", ID, "--course", str(root), "--title", "Transposed convolutions"]) == 0
    path = root / "source" / ID / f"{ID}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.nbformat_minor = 4
    nb.cells += [_cell(UP_ANSWER, "up"), _cell(UP_VISIBLE, "test_up", points=2),
                 _cell(UP_HIDDEN, "test_up_hidden", points=1)]
    nbformat.write(nb, path)
    build.generate(root, [ID])
    return root


def test_the_course_is_what_its_source_holds(new_course: Path) -> None:
    found = course.load(new_course)
    assert found.ids[-1] == ID and len(found.ids) == 7
    assert found.assignment(ID).title == "Transposed convolutions"
    assert (new_course / "release" / ID / f"{ID}.ipynb").is_file()
    release = (new_course / "release" / ID / f"{ID}.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in release and "Conv2DTranspose(3, 2" not in release


def test_the_student_kit_carries_the_course_checks_and_no_hidden_test(new_course: Path,
                                                                       tmp_path: Path) -> None:
    out = student_kit.build(new_course, tmp_path / "kit", [ID])
    with zipfile.ZipFile(next(out.glob("*.whl"))) as wheel:
        names = wheel.namelist()
        text = b"".join(wheel.read(n) for n in names if n.endswith(".py")).decode()
    assert "course_checks.py" in names
    assert "up.strides == (2, 2)" not in text and "BEGIN HIDDEN" not in text
    assert [p.name for p in (out / "notebooks").iterdir()] == [f"{ID}.ipynb"]


def test_the_reference_scores_full_in_the_self_check(new_course: Path) -> None:
    result = check(new_course, ID, budget="smoke")
    assert result.full_marks, result.tests
    assert {t.grade_id for t in result.tests} == {"test_answer", "test_answer_hidden", "test_up",
                                                    "test_up_hidden"}


def _answers(course_root: Path) -> dict[str, nbformat.NotebookNode]:
    """The reference, two mistakes and the untouched release of the seventh assignment."""
    reference = nbformat.read(course_root / "solutions" / ID / f"{ID}.ipynb", as_version=4)
    release = nbformat.read(course_root / "release" / ID / f"{ID}.ipynb", as_version=4)
    wrong_up = nbformat.from_dict(reference)
    wrong_norm = nbformat.from_dict(reference)
    for cell in wrong_up.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "up":
            cell.source = "up = keras.layers.Conv2D(3, 2, strides=2)"
    for cell in wrong_norm.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer":
            cell.source = "def normalize(a):\n    return a / a.max()"
    return {"ref": reference, "wrongup": wrong_up, "wrongnorm": wrong_norm, "untouched": release}


#: Points per test of each answer (:func:`_answers`), by ``cnnkit grade`` and by the service.
POINTS = {"ref": {"test_answer": 1, "test_answer_hidden": 2, "test_up": 2, "test_up_hidden": 1},
          "wrongup": {"test_answer": 1, "test_answer_hidden": 2, "test_up": 0, "test_up_hidden": 0},
          "wrongnorm": {"test_answer": 0, "test_answer_hidden": 0, "test_up": 2, "test_up_hidden": 1}}


def test_graded_the_reference_scores_full_each_mistake_loses_its_test(new_course: Path) -> None:
    run_nbgrader(["generate_assignment", ID, "--force"], new_course)
    submissions = []
    for student, nb in _answers(new_course).items():
        path = new_course / "submitted" / student / ID / f"{ID}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        submissions.append(Submission(student, ID, path, str(path)))
    outcomes = {o.student: o for o in grade_class(new_course, submissions, Settings(budget="smoke")).outcomes}
    points = {s: {t.grade_id: t.score for t in o.tests} for s, o in outcomes.items()}
    for student, expected in POINTS.items():
        assert points[student] == expected, student
    assert sum(points["untouched"].values()) == 0
    graded = nbformat.read(new_course / "autograded" / "wrongup" / ID / f"{ID}.ipynb", as_version=4)
    errors = {c.metadata["nbgrader"]["grade_id"]: c.outputs[0] for c in graded.cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.outputs}
    assert errors["test_up"]["evalue"] == ("type of up: expected keras.layers.Conv2DTranspose, got Conv2D. "
                                           "Create it with keras.layers.Conv2DTranspose(...).")
    assert errors["test_up_hidden"]["evalue"] == "up must be a Conv2DTranspose"
    assert all(e["ename"] != TEST_ERROR for e in errors.values())
    feedback = new_course / "feedback" / "wrongup" / ID / f"{ID}.html"
    assert feedback.is_file() and "up.strides == (2, 2)" not in feedback.read_text()


def test_through_the_service_the_answers_get_the_grades_cnnkit_grade_gives(
        new_course: Path, tmp_path: Path) -> None:
    """The seventh assignment uploaded to ``cnnkit serve`` (its own copy of the course): each
    answer gets the points above, the feedback page names the mistake and shows no hidden test."""
    import shutil

    root = tmp_path / "course"
    shutil.copytree(new_course, root, ignore=shutil.ignore_patterns(
        "gradebook.db", "submitted", "autograded", "feedback", "grading"))
    run_nbgrader(["generate_assignment", ID, "--force"], root)
    students = ("ref", "wrongup", "untouched")
    tokens = {student: issue(root, student) for student in students}
    service = Service(root, "--workers", "2", "--no-exchange").start()
    try:
        answers = _answers(root)
        ids = {}
        for student in students:
            response = service.upload(tokens[student], ID, nbformat.writes(answers[student]).encode())
            assert response.status_code == 202, response.text
            ids[student] = response.json()["id"]
        for student in students:
            final = service.wait_final(tokens[student], [ids[student]])[ids[student]]
            assert final["state"] == "done", (student, final, service.output())
            assert "up.strides == (2, 2)" not in json.dumps(final), "a hidden test reached the student"
            points = {t["grade_id"]: float(t["score"]) for t in final["tests"]}
            if student in POINTS:
                assert points == POINTS[student], (student, final["tests"])
            else:
                assert sum(points.values()) == 0, final["tests"]
            if student == "wrongup":
                messages = " ".join(str(t.get("message", "")) for t in final["tests"])
                assert "type of up: expected keras.layers.Conv2DTranspose, got Conv2D." in messages
    finally:
        service.kill()
