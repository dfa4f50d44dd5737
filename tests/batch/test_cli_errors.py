"""How ``cnnkit`` ends on an error: bad input exits 2 with its message; anything else exits 1 with
one line and where to find the traceback, which ``-v`` prints."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from autograder.authoring.course import UnknownAssignment
from autograder.authoring.samples.run import WorkdirError
from autograder.batch.intake import IntakeError
from autograder.budget import BudgetError
from autograder.cli import main as cli
from autograder.data import DataError
from autograder.errors import BadInput


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(args), Console(file=out, width=200))
    return code, out.getvalue()


def _raising(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make ``cnnkit budgets`` raise ``error``."""
    def budgets(args, console):
        raise error

    monkeypatch.setattr(cli, "_budgets", budgets)


def test_a_bad_course_exits_2_with_its_message_and_no_traceback(tmp_path: Path):
    for verbose in ((), ("-v",)):
        code, text = _run(*verbose, "grade", "--course", str(tmp_path))
        assert code == 2
        assert text == (f"cnnkit: --course: expected a course folder with nbgrader_config.py, got "
                        f"{tmp_path}. Run from the course folder or pass --course.\n")


def test_a_bad_limit_exits_2(repo: Path):
    code, text = _run("grade", "images", "--course", str(repo), "--limit", "memory=lots", "--plan")
    assert code == 2
    assert text == "cnnkit: limit memory: expected a number (sizes may end in K, M or G), got 'lots'.\n"


@pytest.mark.parametrize("error", [
    IntakeError("students: expected a submission from 'x', got none."),
    BadInput("--workers: expected a whole number of at least 1, got 0."),
    DataError("train.csv.gz: expected the MNIST file train.csv.gz, found no such file."),
    BudgetError("budget: expected one of cpu, gpu, got 'fast'."),
    WorkdirError("sample_class: expected a new folder, got one without the marker."),
    UnknownAssignment("assignment: expected one of images, pooling, got 'lenet'."),
], ids=lambda e: type(e).__name__)
def test_the_kits_bad_input_errors_exit_2(monkeypatch, error):
    _raising(monkeypatch, error)
    assert _run("budgets") == (2, f"cnnkit: {error}\n")


@pytest.mark.parametrize("error", [RuntimeError("the disk is on fire\nand more lines"),
                                   PermissionError(13, "Permission denied"),
                                   KeyError("alice")], ids=lambda e: type(e).__name__)
def test_any_other_error_exits_1_with_one_line_and_the_hint(monkeypatch, error):
    _raising(monkeypatch, error)
    code, text = _run("budgets")
    assert code == 1
    assert text.endswith(". Run with -v for the traceback.\n") and text.count("\n") == 1
    assert text.startswith(f"cnnkit: {type(error).__name__}: ")
    assert "Traceback" not in text


def test_the_message_of_an_unexpected_error_is_its_first_line(monkeypatch):
    _raising(monkeypatch, RuntimeError("the disk is on fire\n\x1b[31mand more lines"))
    assert _run("budgets") == (1, "cnnkit: RuntimeError: the disk is on fire. Run with -v for the "
                                  "traceback.\n")


def test_with_v_the_traceback_is_printed(monkeypatch):
    _raising(monkeypatch, RuntimeError("the disk is on fire"))
    code, text = _run("-v", "budgets")
    assert code == 1
    assert "Traceback" in text and "in budgets" in text
    assert text.rstrip().endswith("cnnkit: RuntimeError: the disk is on fire.")
    assert "Run with -v" not in text


def test_an_interrupt_exits_130(monkeypatch):
    _raising(monkeypatch, KeyboardInterrupt())
    assert _run("budgets") == (130, "Interrupted.\n")
