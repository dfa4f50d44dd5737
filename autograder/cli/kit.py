"""``cnnkit student-kit`` and ``cnnkit settings``: what an instructor hands out, and what the
kit reads from the environment."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console



def _student_kit(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring import student_kit
    from autograder.cli.main import _course

    out = student_kit.build(_course(args.course), args.out.resolve(), args.assignment or None)
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
    kit = sub.add_parser(
        "student-kit", help="Build what students receive: the student package (a wheel, with the "
                            "MNIST files) and the release notebooks.",
        description="Build the student distribution: a wheel holding only what the release "
                    "notebooks import (checks, budgets, data; no reference model, solution or "
                    "hidden test) and the release notebooks of the chosen assignments.")
    kit.add_argument("--out", type=Path, default=Path("dist/student-kit"),
                     help="The folder to write, made anew (default: dist/student-kit).")
    kit.add_argument("--course", type=Path, default=None,
                     help="The course folder, with nbgrader_config.py and source/ (default: this folder).")
    kit.add_argument("--assignment", action="append",
                     help="Include this assignment's release notebook (repeatable; default: every "
                          "assignment of the course). Later notebooks' given code holds earlier answers: release a "
                          "notebook once the assignments before it are due.")
    kit.set_defaults(run=_student_kit)
    sub.add_parser("settings", help="List the kit's environment variables and their values."
                   ).set_defaults(run=_settings)
