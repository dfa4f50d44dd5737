"""The ``cnnkit`` command line: a thin layer over the kit's functions.

Exit statuses: 0 done; 1 done with failed submissions, nothing to grade, or an error of the kit or
its surroundings (a one-line message; ``-v`` prints the traceback); 2 bad input (the message says
the fix); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from rich.console import Console

from autograder import budget as budgets
from autograder.authoring import course as courses
from autograder.authoring.course import repo_root
from autograder.batch.sanitize import for_terminal
from autograder.errors import BadInput

log = logging.getLogger("cnnkit")


def _sample_class(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch.score_table import print_results
    from autograder.authoring.samples.run import grade

    bundled = courses.use(repo_root())
    assignments = args.assignment or list(bundled.ids)
    for assignment_id in assignments:
        bundled.assignment(assignment_id)
    console.print(f"Grading the sample class on budget '{args.budget}' in {args.workdir} "
                  f"({len(assignments)} assignment(s)); feedback goes to {args.workdir / 'feedback'}.")
    graded = grade(repo_root(), args.workdir, budget=args.budget, assignments=assignments,
                   feedback=not args.no_feedback, jobs=args.jobs, console=console)
    print_results([g.result for g in graded], assignments, console)
    return 0


def _course(path: Path | None) -> Path:
    """The course folder: ``--course``, else this folder; it must hold ``nbgrader_config.py``.
    It becomes the course of this process (:func:`autograder.authoring.course.use`)."""
    where = (path or Path.cwd()).resolve()
    if not (where / "nbgrader_config.py").is_file():
        raise BadInput(f"{'--course' if path else 'course'}: expected a course folder with "
                       f"nbgrader_config.py, got {where}. Run from the course folder or pass --course.")
    return courses.use(where).root


def _grade(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch import intake
    from autograder.batch.grade import Settings, grade_class
    from autograder.batch.limits import configured

    course = _course(args.course)
    limits = configured(",".join(args.limit or []))
    if args.timeout is not None:
        limits = limits.with_changes(f"notebook={args.timeout}")
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
    settings = Settings(budget=args.budget, workers=args.workers, scheduler=args.scheduler,
                        db_url=args.db_url, output=args.output, feedback=not args.no_feedback,
                        retry_failed=args.retry_failed, limits=limits)
    result = grade_class(course, found.submissions, settings, console)
    if result.interrupted:
        return 130
    return 1 if any(o.status == "failed" for o in result.outcomes) else 0


def _build(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring import build
    from autograder.authoring.sync import compare_generated

    course = _course(args.course)
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

    course = _course(args.course)
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
            console.print(f"{assignment_id}: expected the reference to score full marks, got "
                          f"{sum(t.score for t in result.tests):g}/{sum(t.max_score for t in result.tests):g}. "
                          f"Fix the solution or the failing tests before releasing.")
            status = 1
    return status


def _new(args: argparse.Namespace, console: Console) -> int:
    from autograder.authoring.scaffold import new

    course = _course(args.course)
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


def _course_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--course", type=Path, default=None,
                         help="The course folder, with nbgrader_config.py and source/ (default: "
                              "this folder).")


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
    sample.add_argument("--assignment", action="append",
                        help="Grade only this assignment (repeatable; default: all of the bundled course).")
    sample.add_argument("--no-feedback", action="store_true", help="Skip the feedback HTML.")
    sample.add_argument("--workers", "--jobs", dest="jobs", type=int, default=None,
                        help="Submissions graded at once, each by its own nbgrader process "
                             "(default: what the cores and memory allow under the budget).")
    sample.set_defaults(run=_sample_class)

    grade = sub.add_parser(
        "grade", help="Grade a class: submissions from submitted/, the exchange or an LMS zip, in "
                      "parallel, into the gradebook, with feedback, a per-test CSV and a report.",
        description="Grade a class's submissions with nbgrader's autograde, several at once. "
                    "Stopping it (Ctrl-C, or a kill) loses nothing recorded; running it again "
                    "grades only what is left, and never runs an identical submission twice.")
    grade.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                       help="Assignments to grade (default: every assignment of the course's source/).")
    _course_option(grade)
    grade.add_argument("--from", dest="source", choices=("submitted", "exchange"), default="submitted",
                       help="Take submissions from submitted/ (default) or collect them from the "
                            "nbgrader exchange first.")
    grade.add_argument("--zip", type=Path, default=None,
                       help="An LMS bulk download (Canvas or Moodle); its notebooks are placed in "
                            "submitted/ first (the latest attempt of each student counts).")
    grade.add_argument("--roster", type=Path, default=None,
                       help="CSV with columns lms_id,student_id mapping LMS names to nbgrader ids.")
    grade.add_argument("--student", action="append", default=None,
                       help="Grade only this student (repeatable).")
    grade.add_argument("--budget", default="cpu", choices=sorted(budgets.BUDGETS),
                       help="The training budget (default: cpu).")
    grade.add_argument("--workers", type=int, default=None,
                       help="Submissions graded at once on this machine (default: what the cores "
                            "and memory allow under the budget).")
    grade.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Run on the workers of this Dask scheduler (e.g. tcp://10.0.0.5:8786) "
                            "instead of this machine; gpu-budget jobs go to workers started with "
                            "--resources GPU=1.")
    grade.add_argument("--db-url", default=None,
                       help="The gradebook (default: the course's; e.g. "
                            "postgresql+psycopg://user:password@host/db).")
    grade.add_argument("--output", type=Path, default=None,
                       help="Folder for grades.csv and report.html (default: <course>/grading).")
    grade.add_argument("--timeout", type=float, default=None,
                       help="Seconds one notebook may run in all before it is stopped "
                            "(same as --limit notebook=SECONDS).")
    grade.add_argument("--limit", action="append", default=None, metavar="NAME=VALUE",
                       help="Change a limit of each notebook's run: notebook, cell (seconds), "
                            "memory, output, file, disk (bytes, K/M/G), processes "
                            "(repeatable; defaults in autograder/batch/limits.py).")
    grade.add_argument("--retry-failed", action="store_true",
                       help="Run again the submissions whose earlier run failed.")
    grade.add_argument("--no-feedback", action="store_true", help="Skip the feedback HTML.")
    grade.add_argument("--plan", action="store_true",
                       help="Show which file maps to which student and assignment; grade nothing "
                            "(with --zip the notebooks are still placed in submitted/).")
    grade.set_defaults(run=_grade)

    build = sub.add_parser("build", help="Regenerate release/ and solutions/ from source/.")
    build.add_argument("--check", action="store_true",
                       help="Only check that the committed release/ and solutions/ are up to date.")
    _course_option(build)
    build.set_defaults(run=_build)

    check = sub.add_parser(
        "check", help="Grade each assignment's reference as grading will (the judge, the sandbox, "
                      "hidden tests) and show each test's points: the self-check before release.")
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                       help="Assignment ids or source/<id> folders (default: every assignment).")
    check.add_argument("--budget", default="cpu", choices=sorted(budgets.BUDGETS),
                       help="The training budget (default: cpu).")
    _course_option(check)
    check.set_defaults(run=_check)

    new = sub.add_parser("new", help="Write a new assignment's source notebook: setup, an answer "
                                     "cell, a visible and a hidden test.")
    new.add_argument("assignment", help="The new assignment's id (lower case, digits, _).")
    new.add_argument("--title", default=None, help="Its title (default: from the id).")
    _course_option(new)
    new.set_defaults(run=_new)

    sub.add_parser("data", help="Verify the MNIST files.").set_defaults(run=_data)
    sub.add_parser("budgets", help="List the grading budgets.").set_defaults(run=_budgets)
    from autograder.cli import kit as kit_cli  # cnnkit student-kit, cnnkit settings
    from autograder.cli import serve as serve_cli  # cnnkit serve, cnnkit tokens
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
