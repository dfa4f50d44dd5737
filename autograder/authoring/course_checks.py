"""The course's own checks: a module (``<name>.py``) or package (``<name>/``) in the course folder
that its ``nbgrader_config.py`` names with ``c.CNNKit.course_checks = "<name>"``.

Such a module holds check functions written like the kit's (:mod:`autograder.checks`): they read
the student's objects only through :mod:`autograder.checks.observe` (and may use
:mod:`autograder.checks.numeric`), and raise :class:`~autograder.checks.CheckFailure` with the kit's
message shape. The notebooks' setup cell imports it by its name (``import <name>``) and the tests
call it (``<name>.transpose_output(up, (2, 5, 5, 3))``). It is used in three places, with no
change to the kit:

* at home: the student kit's wheel carries it as a top-level module
  (:mod:`~autograder.authoring.student_kit`);
* in the graded kernel: beside the student kit's modules, so that the setup cell's import works;
* in the judge: imported from the grader's copy of the course, never from the kernel, and bound
  to its name in every test cell (:func:`load`).
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

from autograder.errors import BadInput


def files(course) -> dict[str, bytes]:
    """The course checks' files by path relative to the course folder (none when the course
    names no module). ``course`` is an :class:`autograder.authoring.course.Course`."""
    name = course.checks_module
    if not name:
        return {}
    return files_in(course.root, name)


def files_in(root: Path, name: str) -> dict[str, bytes]:
    """The files of module ``name`` in ``root``; :class:`~autograder.errors.BadInput` when it is
    missing or its name is not a Python module name."""
    if not name.isidentifier():
        raise BadInput(f"c.CNNKit.course_checks: expected the name of a Python module, got {name!r}.")
    single, package = root / f"{name}.py", root / name
    if single.is_file():
        return {single.name: single.read_bytes()}
    if (package / "__init__.py").is_file():
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(package.rglob("*.py"))
                if "__pycache__" not in p.parts}
    raise BadInput(f"c.CNNKit.course_checks: expected {single} or {package / '__init__.py'} in the "
                   f"course folder, found neither. Add the module or clear the setting.")


def load(root: Path, name: str) -> types.ModuleType:
    """Import the course checks module ``name`` from ``root`` for the judge: a fresh module from
    the grader's files, whatever a module of that name elsewhere holds."""
    found = files_in(root, name)
    path = root / (f"{name}.py" if f"{name}.py" in found else f"{name}/__init__.py")
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(root / name)] if path.name == "__init__.py" else None)
    if spec is None or spec.loader is None:
        raise BadInput(f"c.CNNKit.course_checks: cannot import {path}.")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module  # for the package's own relative imports while it loads
    try:
        spec.loader.exec_module(module)
    finally:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
    return module
