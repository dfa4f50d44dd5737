"""``cnnkit student-kit`` and ``cnnkit settings``: what an instructor hands out, and what the
kit reads from the environment."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from autograder.cli.common import add_command, course_folder
from autograder.settings import add_options, setting


@dataclass(frozen=True)
class KitOptions:
    """The options of ``cnnkit student-kit``."""

    out: Path = setting(Path("dist/student-kit"), "The folder to write, made anew.")
    assignment: list[str] | None = setting(
        None, "Include this assignment's release notebook (default: every assignment of the "
              "course). Later notebooks' given code holds earlier answers: release a notebook "
              "once the assignments before it are due.", action="append")


def _student_kit(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring import student_kit

    out = student_kit.build(course_folder(args.course), args.out.resolve(), args.assignment or None)
    wheel = next(out.glob("*.whl"))
    console.print(f"Student kit in {out}:\n  {wheel.name}  (pip install it, or upload it to your "
                  f"course's package index)\n  notebooks/  ({len(list((out / 'notebooks').glob('*.ipynb')))} "
                  f"release notebook(s))\n  README.txt  (what students do)", highlight=False)
    return 0


def _settings(args: argparse.Namespace, console: Console) -> int:
    from autograder import settings

    console.print(settings.describe(), markup=False, highlight=False)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``student-kit`` and ``settings`` to the ``cnnkit`` command line."""
    kit = add_command(
        sub, "student-kit", _student_kit, "Build what students receive: the student package (a "
        "wheel, with the MNIST files) and the release notebooks.", "Build the student "
        "distribution: a wheel holding only what the release notebooks import (checks, budgets, "
        "data; no reference model, solution or hidden test) and the release notebooks of the "
        "chosen assignments.")
    add_options(kit, KitOptions)
    add_command(sub, "settings", _settings, "List the kit's environment variables and their "
                "values.", course=False)
