"""The ``cnnkit`` command line: a thin layer over the kit's functions."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from rich.console import Console

from autograder import budget as budgets
from autograder.course import ASSIGNMENT_IDS, repo_root


def _sample_class(args: argparse.Namespace, console: Console) -> int:
    from autograder.report import print_results
    from autograder.samples.run import grade

    assignments = args.assignment or list(ASSIGNMENT_IDS)
    console.print(f"Grading the sample class on budget '{args.budget}' in {args.workdir} "
                  f"({len(assignments)} assignment(s)); feedback goes to {args.workdir / 'feedback'}.")
    graded = grade(repo_root(), args.workdir, budget=args.budget, assignments=assignments,
                   feedback=not args.no_feedback, jobs=args.jobs, console=console)
    print_results([g.result for g in graded], assignments, console)
    return 0


def _build(args: argparse.Namespace, console: Console) -> int:
    from autograder import build
    from autograder.sync import compare_generated

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            differences = compare_generated(repo_root(), Path(tmp))
        for line in differences:
            console.print(line, markup=False)
        if differences:
            console.print("release/ or solutions/ is out of date: run `cnnkit build`.")
            return 1
        console.print("release/ and solutions/ match source/.")
        return 0
    build.generate(repo_root())
    console.print("Regenerated release/ and solutions/ from source/.")
    return 0


def _data(args: argparse.Namespace, console: Console) -> int:
    from autograder import data

    console.print(f"MNIST files verified in {data.mnist_dir()}")
    return 0


def _budgets(args: argparse.Namespace, console: Console) -> int:
    for item in budgets.BUDGETS.values():
        console.print(f"[bold]{item.name}[/bold]: {item.purpose}")
        for model in budgets.MODELS:
            console.print(f"    {model}: {item.training(model).describe()}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``cnnkit``."""
    top = argparse.ArgumentParser(prog="cnnkit", description=__doc__)
    top.add_argument("-v", "--verbose", action="store_true", help="Log what the kit runs.")
    sub = top.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample-class", help="Grade the bundled sample class with nbgrader "
                                                 "and print each student's score per assignment.")
    sample.add_argument("--budget", default="cpu", choices=sorted(budgets.BUDGETS),
                        help="The training budget the notebooks run under (default: cpu).")
    sample.add_argument("--workdir", type=Path, default=Path("sample_class"),
                        help="The course folder to grade in; made anew (default: ./sample_class).")
    sample.add_argument("--assignment", action="append", choices=ASSIGNMENT_IDS,
                        help="Grade only this assignment (repeatable; default: all six).")
    sample.add_argument("--no-feedback", action="store_true", help="Skip the feedback HTML.")
    sample.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="Submissions graded at once, each by its own nbgrader process "
                             "(default: 2, or 1 on a one-core machine).")
    sample.set_defaults(run=_sample_class)

    build = sub.add_parser("build", help="Regenerate release/ and solutions/ from source/.")
    build.add_argument("--check", action="store_true",
                       help="Only check that the committed release/ and solutions/ are up to date.")
    build.set_defaults(run=_build)

    sub.add_parser("data", help="Verify the MNIST files.").set_defaults(run=_data)
    sub.add_parser("budgets", help="List the grading budgets.").set_defaults(run=_budgets)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnnkit``; return its exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # Piped output has no terminal width; keep the score table's columns whole.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    try:
        return args.run(args, console)
    except KeyboardInterrupt:
        console.print("Interrupted.")
        return 130
    except (RuntimeError, ValueError, OSError) as exc:
        console.print(f"[red]cnnkit: {exc}[/red]")
        return 2


if __name__ == "__main__":
    sys.exit(main())
