"""What students receive holds what the release notebooks need, and nothing they should not read."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
from support.helpers import completed_release

from autograder.authoring import student_kit
from autograder.authoring.course import ASSIGNMENT_IDS

#: Lines shorter than this (``])``, ``s = 1``) are syntax or trivial, not answers.
SHORTEST_LINE = 12


def _normalised(line: str) -> str:
    """A line without its comment and without whitespace."""
    return re.sub(r"\s+", "", line.split("#", 1)[0])


def secret_lines(repo: Path, assignments=ASSIGNMENT_IDS) -> set[str]:
    """Every line of a solution cell or of a hidden test of ``assignments`` in ``source/``,
    normalised."""
    lines: set[str] = set()
    for notebook in (repo / "source" / a / f"{a}.ipynb" for a in assignments):
        for cell in nbformat.read(notebook, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            text = cell.source
            if meta.get("solution"):
                chosen = text.split("\n")
            else:
                hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, re.S)
                chosen = "\n".join(hidden).split("\n")
            lines |= {n for n in map(_normalised, chosen)
                      if len(n) >= SHORTEST_LINE and "BEGINSOLUTION" not in n and "ENDSOLUTION" not in n}
    return lines


def leaked(texts: dict[str, str], secrets: set[str]) -> list[str]:
    found = []
    for name, text in texts.items():
        for line in text.split("\n"):
            if _normalised(line) in secrets:
                found.append(f"{name}: {line.strip()}")
    return found


def test_the_kit_is_only_what_release_notebooks_import() -> None:
    names = {p.relative_to(student_kit.package_root()).parts[0] for p in student_kit.student_paths()}
    assert names.isdisjoint({"judge", "authoring", "batch", "cli", "serve"})
    assert {"checks", "budget.py", "data.py", "kernel_answers.py", "training_guard.py"} <= names


def test_the_secret_lines_are_found_at_all(repo: Path) -> None:
    secrets = secret_lines(repo)
    # A hidden test and a solution line, so that the leak test below could fail.
    assert _normalised('checks.residual_unit_output(ResidualUnit, strides=2)') in secrets
    assert _normalised("self.activation = keras.activations.get(activation)") in secrets


def test_no_file_of_the_kit_holds_a_solution_line_or_a_hidden_test(repo: Path) -> None:
    texts = {str(p): p.read_text(encoding="utf-8") for p in student_kit.student_paths()}
    assert leaked(texts, secret_lines(repo)) == []


@pytest.fixture(scope="module")
def distribution(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return student_kit.build(repo, tmp_path_factory.mktemp("dist") / "student-kit")


@pytest.mark.slow
def test_the_distribution_holds_the_notebooks_the_wheel_and_no_secret(repo: Path, distribution: Path) -> None:
    notebooks = sorted(p.name for p in (distribution / "notebooks").glob("*.ipynb"))
    assert notebooks == sorted(f"{a}.ipynb" for a in ASSIGNMENT_IDS)
    wheel = next(distribution.glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        texts = {m: archive.read(m).decode("utf-8") for m in members
                 if m.endswith((".py", ".txt", "METADATA"))}
    assert "autograder/_data/mnist/test.csv.gz" in members
    assert not [m for m in members
                if m.startswith(("autograder/judge", "autograder/authoring", "autograder/batch"))]
    assert leaked(texts, secret_lines(repo)) == []
    # A notebook's given code may hold the answers of earlier assignments (the tutorial builds
    # on them; they are released once those are due), never its own or a later one's.
    for position, assignment in enumerate(ASSIGNMENT_IDS):
        notebook = distribution / "notebooks" / f"{assignment}.ipynb"
        text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                         for c in json.loads(notebook.read_text())["cells"])
        assert leaked({notebook.name: text}, secret_lines(repo, ASSIGNMENT_IDS[position:])) == []
    assert "pip install" in (distribution / "README.txt").read_text()


@pytest.fixture(scope="module")
def student_python(distribution: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the student wheel installed by pip, and this
    environment's third-party packages (TensorFlow, nbgrader...) through a path file, but
    nothing else of the course; its interpreter."""
    root = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--prefix", str(root), str(next(distribution.glob("*.whl")))], check=True)
    return python


@pytest.mark.slow
def test_the_student_environment_has_the_kit_and_nothing_of_the_instructor(
        student_python: Path, tmp_path: Path) -> None:
    probe = subprocess.run([str(student_python), "-c", "import autograder, importlib.util as u; "
                            "print(autograder.__file__); print(u.find_spec('autograder.judge')); "
                            "from autograder import data; print(data.mnist_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.split("\n")
    venv = str(student_python.parent.parent)
    assert probe[0].startswith(venv) and probe[1] == "None" and probe[2].startswith(venv)
    assert (student_python.parent.parent / "etc" / "jupyter" / "nbgrader_config.py").is_file()


#: A pause longer than nbgrader's default 30 s a cell, put in an answer cell of ``images``: the
#: kit's validate settings must let it finish, as they let a training cell finish.
LONG_CELL = "\nimport time\ntime.sleep(40)  # longer than nbgrader's default 30 s a cell\n"


#: The assignments the validate test below runs on every test run (the others: ``matrix``).
VALIDATED_EVERY_RUN = ("images", "convolution", "pooling", "residual_unit")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [*VALIDATED_EVERY_RUN,
                                        pytest.param("mnist_cnn", marks=pytest.mark.matrix),
                                        pytest.param("resnet34", marks=pytest.mark.matrix)])
def test_validate_in_the_student_environment_passes_a_completed_notebook_and_fails_an_untouched_one(
        repo: Path, distribution: Path, student_python: Path, tmp_path: Path, assignment: str) -> None:
    """Where a student runs it: a folder of their own, the student kit's configuration only, and
    the CPU budget that nbgrader validate trains under (training takes longer than nbgrader's
    default 30 s a cell; in ``images`` a 40 s pause stands in for it)."""
    release = distribution / "notebooks" / f"{assignment}.ipynb"
    for kind in ("completed", "untouched"):
        (tmp_path / kind).mkdir()
        shutil.copy(release, tmp_path / kind / release.name)
    completed = tmp_path / "completed" / release.name
    completed_release(repo, assignment, completed)
    if assignment == "images":
        notebook = nbformat.read(completed, 4)
        answer = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
        answer.source += LONG_CELL
        nbformat.write(notebook, completed)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CNNKIT_")}
    if assignment == "resnet34":
        env["CNNKIT_BUDGET"] = "smoke"  # ResNet-34 on the CPU budget takes minutes; the timing is the CNN's
    outputs = {}
    for kind in ("completed", "untouched"):
        process = subprocess.run([str(student_python), "-m", "nbgrader", "validate", release.name],
                                 cwd=tmp_path / kind, env=env, capture_output=True, text=True, timeout=1500)
        outputs[kind] = process.stdout + process.stderr
    completed = outputs["completed"]
    assert "Success! Your notebook passes all the tests." in completed, completed[-3000:]
    assert "VALIDATION FAILED" in outputs["untouched"]
    assert "HIDDEN" not in outputs["untouched"]
    # Nor any check call that only hidden tests make, though the untouched notebook fails them.
    source = (repo / "source" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    region = r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS"
    hidden = "\n".join(re.findall(region, source, re.S))
    calls = (set(re.findall(r"checks\.[a-z_0-9]+\(", hidden))
             - set(re.findall(r"checks\.[a-z_0-9]+\(", re.sub(region, "", source, flags=re.S))))
    assert calls, "some check is called by hidden tests only"
    assert [c for c in calls if c in outputs["untouched"]] == []


@pytest.mark.slow
def test_a_fresh_environment_with_the_kit_runs_the_training_notebooks_visible_tests(
        repo: Path, distribution: Path, student_python: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    python = student_python
    spec = tmp_path / "jupyter" / "kernels" / "student"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [str(python), "-m", "ipykernel_launcher", "-f",
                                                           "{connection_file}"], "language": "python",
                                                  "display_name": "student"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("CNNKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("CNNKIT_BUDGET", "smoke")
    # The quick assignments' visible tests already run in this environment under `nbgrader
    # validate` above; the training ones (validated there only by the matrix tier) run here.
    for assignment in [a for a in ASSIGNMENT_IDS if a not in VALIDATED_EVERY_RUN]:
        path = tmp_path / f"{assignment}.ipynb"
        shutil.copy(distribution / "notebooks" / path.name, path)
        completed_release(repo, assignment, path)
        release = nbformat.read(path, as_version=4)
        NotebookClient(release, kernel_name="student", timeout=900, allow_errors=True,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.get("ename"), o.get("evalue"))
                  for c in release.cells if c.cell_type == "code" for o in c.outputs
                  if o.output_type == "error"]
        assert errors == [], assignment
