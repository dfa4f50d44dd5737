"""The tools that keep the code so: ruff and mypy, configured in ``pyproject.toml``, are clean on
the package and its tests, and each fails on a violation planted in a copy of that configuration
(so that a configuration that checks nothing cannot pass)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.course import repo_root

ROOT = repo_root()


def _tool(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m <tool> args`` in ``cwd``, with this interpreter (the kit's environment)."""
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A folder with the project's ``pyproject.toml`` and an ``autograder`` package of one
    module, ``planted.py``, for a test to write."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "autograder").mkdir()
    (tmp_path / "autograder" / "__init__.py").write_text('"""A planted package."""\n')
    return tmp_path


def test_ruff_finds_nothing_in_the_package_and_its_tests():
    found = _tool("ruff", "check", "--no-cache", "autograder", "tests", cwd=ROOT)
    assert found.returncode == 0, found.stdout + found.stderr


def test_mypy_finds_nothing_in_the_package():
    found = _tool("mypy", cwd=ROOT)  # the files to check are the configuration's: the package
    assert found.returncode == 0, found.stdout + found.stderr
    assert "Success: no issues found" in found.stdout


def test_ruff_fails_on_an_unused_import_and_a_long_line(planted):
    (planted / "autograder" / "planted.py").write_text(
        '"""Planted."""\n\nimport os\n\nTEXT = "' + "x" * 110 + '"\n')
    found = _tool("ruff", "check", "--no-cache", "autograder", cwd=planted)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "F401" in found.stdout and "E501" in found.stdout, found.stdout


def test_mypy_fails_on_a_type_error_and_a_misspelt_import(planted):
    (planted / "autograder" / "planted.py").write_text(
        '"""Planted."""\n\nimport autograder.no_such_module\n\n'
        'def half(n: int) -> int:\n    """Half of n."""\n    return n / 2\n')
    found = _tool("mypy", "--cache-dir", str(planted / ".mypy_cache"), cwd=planted)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "[return-value]" in found.stdout, found.stdout
    # Missing imports are ignored per library, not everywhere: the kit's own modules are checked.
    assert "[import-not-found]" in found.stdout, found.stdout
