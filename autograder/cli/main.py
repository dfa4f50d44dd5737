"""The ``cnnkit`` command line: a thin layer over the kit's functions.

Exit statuses: 0 done; 1 done with failed submissions, nothing to grade, or an error of the kit or
its surroundings (a one-line message; ``-v`` prints the traceback); 2 bad input (the message says
the fix); 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rich.console import Console

import autograder
from autograder import budget as budgets
from autograder.authoring import course as courses
from autograder.authoring.course import repo_root
from autograder.batch.sanitize import for_terminal
from autograder.batch.settings import Settings
from autograder.cli.common import add_command, course_folder
from autograder.errors import BadInput
from autograder.settings import add_options, from_options, setting

#: The kit's distribution, whose version ``cnnkit --version`` prints.
DISTRIBUTION = "cnn-course-kit"

log = logging.getLogger("cnnkit")


def _sample_class(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring.samples.run import grade
    from autograder.batch.score_table import print_results

    bundled = courses.use(repo_root())
    assignments = args.assignment or list(bundled.ids)
    for assignment_id in assignments:
        bundled.assignment(assignment_id)
    console.print(f"Grading the sample class on budget '{args.budget}' in {args.workdir} "
                  f"({len(assignments)} assignment(s)); feedback goes to {args.workdir / 'feedback'}.")
    graded = grade(repo_root(), args.workdir, budget=args.budget, assignments=assignments,
                   feedback=args.feedback, jobs=args.workers, console=console)
    print_results([g.result for g in graded], assignments, console)
    return 0


def _grade(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch import intake
    from autograder.batch.grade import grade_class
    from autograder.batch.limits import configured

    course = course_folder(args.course)
    settings = from_options(Settings, args)
    if args.timeout is not None:  # --limit notebook=SECONDS, after the other limits
        limits = (settings.limits or configured()).with_changes(f"notebook={args.timeout}")
        settings = dataclasses.replace(settings, limits=limits)
    assignments = args.assignments or list(courses.load(course).ids)
    if args.zip is not None:
        found = intake.from_zip(course, args.zip, assignments, args.student, roster=args.roster)
    elif args.source == "exchange":
        found = intake.from_exchange(course, assignments, args.student)
    else:
        found = intake.from_submitted(course, assignments, args.student)
    intake.show(found, console)
    if not found.submissions:
        console.print("Nothing to grade: no submission was placed (see above).")
        return 1
    if args.plan:
        return 0
    result = grade_class(course, found.submissions, settings, console)
    if result.interrupted:
        return 130
    return 1 if any(o.status == "failed" for o in result.outcomes) else 0


def _build(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring import build
    from autograder.authoring.sync import compare_generated

    course = course_folder(args.course)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            differences = compare_generated(course, Path(tmp))
        for line in differences:
            console.print(line, markup=False)
        if differences:
            console.print("release/ or solutions/ is out of date: run `cnnkit build`.")
            return 1
        console.print("release/ and solutions/ match source/.")
        return 0
    build.generate(course)
    console.print(f"Regenerated release/ and solutions/ of {course} from source/ "
                  f"({', '.join(courses.load(course).ids)}).")
    return 0


def _check(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring.self_check import check

    course = course_folder(args.course)
    wanted = [Path(a).name if "/" in a else a for a in args.assignments] or list(courses.load(course).ids)
    status = 0
    for assignment_id in wanted:
        courses.load(course).assignment(assignment_id)
        console.print(f"Grading the reference of {assignment_id} as grading will (budget "
                      f"'{args.budget}', hidden tests included)...")
        result = check(course, assignment_id, budget=args.budget)
        for test in result.tests:
            mark = "ok  " if test.score == test.max_score else "FAIL"
            console.print(f"  {mark} {test.grade_id}: {test.score:g}/{test.max_score:g}"
                          + (f"  {for_terminal(test.message)}" if test.message else ""),
                          markup=False, highlight=False)
        if result.status == "failed":
            console.print(f"  the run failed: {for_terminal(result.reason)}", markup=False)
        if result.full_marks:
            console.print(f"{assignment_id}: the reference scores full marks.")
        else:
            scored = sum(t.score for t in result.tests)
            console.print(f"{assignment_id}: expected the reference to score full marks, got "
                          f"{scored:g}/{sum(t.max_score for t in result.tests):g}. "
                          f"Fix the solution or the failing tests before releasing.")
            status = 1
    return status


def _new(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring.scaffold import new

    course = course_folder(args.course)
    path = new(course, args.assignment, title=args.title or "")
    console.print(f"Wrote {path}: an introduction, a setup cell, one answer cell between solution "
                  f"markers, a visible and a hidden test. Edit it, then `nbgrader generate_assignment "
                  f"{args.assignment}` and `cnnkit check {args.assignment}`.", highlight=False)
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


@dataclass(frozen=True)
class Options:
    """The options of ``cnnkit``'s own commands that are not settings of what they run (those
    are :class:`~autograder.batch.settings.Settings`')."""

    source: str = setting("submitted", "Take submissions from submitted/, or collect them from "
                                       "the nbgrader exchange first.", option="--from",
                          choices=("submitted", "exchange"))
    zip: Path | None = setting(None, "An LMS bulk download (Canvas or Moodle); its notebooks are "
                                     "placed in submitted/ first (the latest attempt of each "
                                     "student counts).")
    roster: Path | None = setting(None, "CSV with columns lms_id,student_id mapping LMS names to "
                                        "nbgrader ids.")
    student: list[str] | None = setting(None, "Grade only this student.", action="append")
    timeout: float | None = setting(None, "Seconds one notebook may run in all before it is "
                                          "stopped (same as --limit notebook=SECONDS).")
    plan: bool = setting(False, "Show which file maps to which student and assignment; grade "
                                "nothing (with --zip the notebooks are still placed in "
                                "submitted/).")
    workdir: Path = setting(Path("sample_class"), "The course folder to grade the sample class "
                                                  "in; made anew.")
    assignment: list[str] | None = setting(None, "Grade only this assignment (default: all of "
                                                 "the bundled course).", action="append")
    check: bool = setting(False, "Only check that the committed release/ and solutions/ are up "
                                 "to date.")
    title: str | None = setting(None, "Its title (default: from the id).")


def version() -> str:
    """The kit's version: its distribution's, else the package's ``__version__``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return autograder.__version__


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``cnnkit``: each command's options generated from the settings
    they declare (:func:`autograder.settings.add_options`)."""
    top = argparse.ArgumentParser(prog="cnnkit", description=__doc__)
    top.add_argument("-v", "--verbose", action="store_true", help="Log what the kit runs.")
    top.add_argument("--version", action="version", version=f"cnnkit {version()}")
    sub = top.add_subparsers(dest="command", required=True)

    sample = add_command(sub, "sample-class", _sample_class, "Grade the bundled sample class with "
                      "nbgrader and print each student's score per assignment.", course=False)
    add_options(sample, Options, "workdir", "assignment")
    add_options(sample, Settings, "budget", "workers", "feedback")

    grade = add_command(sub, "grade", _grade, "Grade a class: submissions from submitted/, the "
                     "exchange or an LMS zip, in parallel, into the gradebook, with feedback, a "
                     "per-test CSV and a report.", "Grade a class's submissions with nbgrader's "
                     "autograde, several at once. Stopping it (Ctrl-C, or a kill) loses nothing "
                     "recorded; running it again grades only what is left, and never runs an "
                     "identical submission twice.")
    grade.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="Assignments to grade "
                       "(default: every assignment of the course's source/).")
    add_options(grade, Options, "source", "zip", "roster", "student", "timeout", "plan")
    add_options(grade, Settings)

    build = add_command(sub, "build", _build, "Regenerate release/ and solutions/ from source/.")
    add_options(build, Options, "check")

    check = add_command(sub, "check", _check, "Grade each assignment's reference as grading will (the "
                     "judge, the sandbox, hidden tests) and show each test's points: the "
                     "self-check before release.")
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="Assignment ids or "
                       "source/<id> folders (default: every assignment).")
    add_options(check, Settings, "budget")

    new = add_command(sub, "new", _new, "Write a new assignment's source notebook: setup, an answer "
                   "cell, a visible and a hidden test.")
    new.add_argument("assignment", help="The new assignment's id (lower case, digits, _).")
    add_options(new, Options, "title")

    add_command(sub, "data", _data, "Verify the MNIST files.", course=False)
    add_command(sub, "budgets", _budgets, "List the grading budgets.", course=False)
    from autograder.cli import kit as kit_cli  # cnnkit student-kit, cnnkit settings
    from autograder.cli import serve as serve_cli  # cnnkit serve, cnnkit tokens, grade-again
    kit_cli.register(sub)
    serve_cli.register(sub)
    return top


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run ``cnnkit``; return its exit status (see the module's docstring)."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.verbose:  # the kit's own log; the libraries' debug output would drown it
        logging.getLogger("autograder").setLevel(logging.DEBUG)
    # Piped output has no terminal width; keep the score table's columns whole.
    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    try:
        return args.run(args, console)
    except KeyboardInterrupt:
        console.print("Interrupted.")
        return 130
    except Exception as exc:  # every error ends in one line; -v adds the traceback
        bad = isinstance(exc, BadInput)
        if bad:
            log.debug("bad input", exc_info=True)
        elif args.verbose:
            console.print_exception()
        console.print(error_line(exc, bad_input=bad, verbose=args.verbose), style="red",
                      markup=False, highlight=False)
        return 2 if bad else 1


def error_line(exc: BaseException, *, bad_input: bool, verbose: bool) -> str:
    """The one line ``cnnkit`` prints for ``exc``: a bad input's own message; for anything else
    its type and the first line of its message, and where to find the rest."""
    if bad_input:
        return f"cnnkit: {for_terminal(exc)}"
    lines = str(exc).strip().splitlines()
    text = f"cnnkit: {type(exc).__name__}" + (f": {for_terminal(lines[0])}" if lines else "")
    if not text.endswith((".", "!", "?")):
        text += "."
    return text if verbose else f"{text} Run with -v for the traceback."


if __name__ == "__main__":
    sys.exit(main())
