"""What students receive: the release notebooks and a package holding only what they import.

The course repository serves three parties, and each gets only what it needs. Students get the
*student kit*: the modules at the top of ``autograder/`` and ``autograder/checks/`` that the
release notebooks import (checks and their messages, budgets, the training guard, data access,
the model specs the visible tests compare with, and the kernel's side of grading), plus the MNIST
files. It holds no reference model, no solution, no hidden test and no sample-class answer: those
live in ``autograder/judge/``, ``autograder/authoring/``, ``source/`` and ``solutions/``, which
it never copies.

:func:`build` writes the distribution an instructor publishes (``cnnkit student-kit``);
:func:`modules_dir` the same modules without the data, which the grading sandbox gives each
kernel in place of the instructor's package.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import autograder
from autograder import data, settings
from autograder.authoring import course

#: The student kit's files, relative to the ``autograder`` package folder. Everything else of
#: the package stays with the instructor and the graders.
STUDENT_FILES: tuple[str, ...] = (
    "__init__.py", "_quiet.py", "errors.py", "messages.py", "settings.py", "budget.py",
    "training_guard.py", "data.py", "specs.py", "keras_compare.py", "weights.py", "wire.py",
    "plain.py", "kernel_answers.py", "checks",
)

#: The distribution's name on a package index, and what it needs.
DISTRIBUTION = "cnn-course-kit-student"
REQUIREMENTS = (
    "tensorflow-cpu==2.21.*; platform_machine == 'x86_64'",
    "tensorflow==2.21.*; platform_machine != 'x86_64'",
    "keras>=3.15,<4", "numpy>=1.26", "pandas>=2.2", "matplotlib>=3.8", "scikit-learn>=1.5",
    "pillow>=10", "ipython>=8",
)


def package_root() -> Path:
    """The folder of the installed ``autograder`` package."""
    return Path(autograder.__file__).resolve().parent


def student_paths(root: Path | None = None) -> list[Path]:
    """Every file of the student kit under the package folder ``root``, sorted."""
    root = root or package_root()
    found = []
    for name in STUDENT_FILES:
        path = root / name
        if path.is_dir():
            found += [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"student kit: expected {path}, found no such file.")
    return sorted(found)


def digest(root: Path | None = None) -> str:
    """A SHA-256 of the student kit's files (names and contents)."""
    root = root or package_root()
    hasher = hashlib.sha256()
    for path in student_paths(root):
        hasher.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()


def copy_modules(target: Path, root: Path | None = None) -> Path:
    """Copy the student kit's modules into ``target/autograder``; return ``target``."""
    root = root or package_root()
    for path in student_paths(root):
        destination = target / "autograder" / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return target


def modules_dir(cache: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A folder holding only the student kit's modules (``<folder>/autograder/...``) and the
    course's own checks (``extra``: files by relative path), made once per version of them in
    ``cache``, readable by any user: what a graded kernel imports."""
    extra = extra or {}
    hasher = hashlib.sha256(digest().encode())
    for name, content in sorted(extra.items()):
        hasher.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(content).digest())
    folder = cache / f"student-kit-{hasher.hexdigest()[:16]}"
    if (folder / "autograder" / "__init__.py").is_file():
        return folder
    partial = Path(tempfile.mkdtemp(prefix=".student-kit-", dir=cache))
    copy_modules(partial)
    for name, content in extra.items():
        target = (partial / name).resolve()
        if not target.is_relative_to(partial.resolve()):
            raise ValueError(f"course checks: file name {name!r} leaves the kit folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, 0o644)
    return settings.publish(partial, folder)


_PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The student kit of the CNN course module: the checks your notebooks call, budgets, data."
requires-python = ">=3.11,<3.13"
dependencies = [{requirements}]

[project.optional-dependencies]
validate = ["nbgrader==0.9.6"]

[tool.setuptools]
py-modules = [{modules}]

[tool.setuptools.packages.find]
include = ["autograder*"{packages}]

[tool.setuptools.package-data]
autograder = ["_data/mnist/*"]

[tool.setuptools.data-files]
"etc/jupyter" = ["nbgrader_config.py"]
"""

#: ``nbgrader validate``'s settings on a student's machine, installed where Jupyter reads its
#: configuration in the environment (``<prefix>/etc/jupyter``): nbgrader's defaults stop a cell
#: after 30 s and give up when TensorFlow keeps the kernel from sending its output for 4 s, so a
#: correct notebook that trains would fail to validate.
VALIDATE_CONFIG = """# The CNN course kit: settings for `nbgrader validate` on your machine.
c = get_config()  # noqa: F821
# Training cells take minutes; nbgrader's default stops a cell after 30 s.
c.Execute.timeout = 900
# While TensorFlow trains, the kernel can take more than nbgrader's 4 s to send its output.
c.Execute.iopub_timeout = 120
"""

_README = """CNN course module: student kit
==============================

1. Install the kit (Python 3.11) in a virtual environment:

       python3 -m venv .venv
       .venv/bin/pip install {wheel}

   or, where your course publishes it on a package index, `pip install {name}`.
2. Open the notebooks in notebooks/ with Jupyter, fill in the cells marked `# YOUR CODE HERE`,
   and run the test cell under each. `pip install "{name}[validate]"` adds nbgrader, whose
   `nbgrader validate <notebook>.ipynb` runs a whole notebook as the grader does.
3. Submit the notebook as your course says (nbgrader submit, or the course's upload page).
"""


def _wheel(project: Path, out: Path) -> Path:
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(project)]
    try:
        import setuptools  # noqa: F401  (present: build without fetching it)

        command.insert(5, "--no-build-isolation")
    except ImportError:
        pass
    process = subprocess.run(command, capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"student kit wheel: expected pip wheel to succeed, got exit "
                           f"{process.returncode}: {process.stderr.strip()[-500:]}")
    return next(out.glob("*.whl"))


def build(repo: Path, out: Path, assignments: Sequence[str] | None = None) -> Path:
    """Write the student distribution into ``out`` (made anew): ``notebooks/`` (the release
    notebooks of ``assignments``), the wheel, and ``README.txt``; return ``out``.

    The wheel is the same for every release. The notebooks follow the tutorial, whose later
    steps start from the earlier ones' results: the given code of a later notebook holds the
    answers of earlier assignments, so release a notebook once the assignments before it are due.
    """
    from autograder.authoring import course_checks

    the_course = course.load(repo)
    assignments = the_course.ids if assignments is None else assignments
    for assignment_id in assignments:
        the_course.assignment(assignment_id)
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    for assignment_id in assignments:
        notebook = repo / "release" / assignment_id / f"{assignment_id}.ipynb"
        if not notebook.is_file():
            raise FileNotFoundError(f"{notebook}: expected the release notebook of {assignment_id}, "
                                    f"found no such file. Run `cnnkit build` first.")
        shutil.copyfile(notebook, out / "notebooks" / notebook.name)
    with tempfile.TemporaryDirectory(prefix="cnnkit-student-kit-") as tmp:
        project = copy_modules(Path(tmp) / "project")
        for name, content in course_checks.files(the_course).items():  # the course's own checks
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_bytes(content)
        mnist = project / "autograder" / "_data" / "mnist"
        mnist.mkdir(parents=True)
        source = data.find_mnist_dir()
        data.verify(source)
        for name in (*data.MNIST_FILES, data.CHECKSUMS_FILE):
            shutil.copyfile(source / name, mnist / name)
        (project / "nbgrader_config.py").write_text(VALIDATE_CONFIG, encoding="utf-8")
        requirements = ", ".join(f'"{r}"' for r in REQUIREMENTS)
        own = course_checks.files(the_course)
        modules = ", ".join(f'"{n[:-3]}"' for n in own if "/" not in n)
        packages = "".join(f', "{n.split("/")[0]}*"' for n in own if n.endswith("/__init__.py")
                           and n.count("/") == 1)
        (project / "pyproject.toml").write_text(_PYPROJECT.format(
            name=DISTRIBUTION, version=autograder.__version__, requirements=requirements,
            modules=modules, packages=packages), encoding="utf-8")
        wheel = _wheel(project, out)
    (out / "README.txt").write_text(_README.format(wheel=wheel.name, name=DISTRIBUTION), encoding="utf-8")
    os.chmod(out, 0o755)
    return out
