"""``cnnkit serve``, ``cnnkit tokens`` and ``cnnkit grade-again``: the command line of the grading
service (:mod:`autograder.serve`), a thin layer over its settings and functions."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rich.console import Console

from autograder.cli.common import add_command, course_folder
from autograder.errors import BadInput
from autograder.serve.settings import ServeSettings
from autograder.settings import add_options, from_options, setting


@dataclass(frozen=True)
class Options:
    """The options of ``cnnkit tokens`` and ``cnnkit grade-again`` that are not the service's
    settings (:class:`~autograder.serve.settings.ServeSettings`)."""

    instructor: str | None = setting(None, "Make the instructor's link instead (name default: "
                                           "instructor); it opens the live overview of the "
                                           "queue and the class's grades.", nargs="?",
                                     const="instructor", metavar="NAME")
    reissue: bool = setting(False, "Make new links for students who have one (theirs stop "
                                   "working).")
    output: Path | None = setting(None, "Write the links to this CSV file (readable by you only) "
                                        "instead of printing them.")
    student: list[str] | None = setting(None, "Only this student's failed submissions.",
                                        action="append")
    assignment: list[str] | None = setting(None, "Only the failed submissions of this "
                                                 "assignment.", action="append")
    id: list[int] | None = setting(None, "Only this submission id.", action="append", type=int)


def _serve(args: argparse.Namespace, console: Console) -> int:
    from autograder.serve.service import serve

    settings = from_options(ServeSettings, args,
                            course=course_folder(args.course or args.course_folder))
    serve(settings, echo=lambda line: console.print(line, markup=False, highlight=False))
    return 0


def _tokens(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch.grade import default_db_url
    from autograder.serve import tables
    from autograder.serve.tokens import Tokens, roster_students

    course = course_folder(args.course)
    tokens = Tokens(tables.connect(args.db_url or default_db_url(course)))
    url = ServeSettings(course=course, public_url=args.public_url).url
    if args.instructor is not None:
        wanted, role = [args.instructor], "instructor"
    elif args.roster is not None:
        wanted, role = roster_students(args.roster), "student"
    else:
        raise BadInput("tokens: expected a roster CSV (with a student_id column) or --instructor, "
                       "got neither. Give the roster the LMS exported, or --instructor.")
    holders = tokens.holders(role)
    issue = [s for s in wanted if args.reissue or role == "instructor" or s not in holders]
    rows = [(student, token, f"{url}/signin?token={quote(token)}")
            for student, token in ((s, tokens.issue(s, role)) for s in issue)]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["student_id", "token", "link"])
    writer.writerows(rows)
    if args.output is not None:
        # Personal links are passwords: only the instructor may read the file.
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text.getvalue())
        console.print(f"Wrote {len(rows)} personal link(s) to {args.output}.", markup=False,
                      highlight=False)
    else:
        console.file.write(text.getvalue())
        console.file.flush()
    kept = len(wanted) - len(issue)
    if kept:
        note = (f"{kept} student(s) already have a link and were left as they are (--reissue "
                f"replaces theirs; the old links stop working).")
        # With the links on standard output, the note goes to standard error, out of the CSV.
        shown = Console(stderr=True) if args.output is None else console
        shown.print(note, markup=False, highlight=False)
    return 0


def _grade_again(args: argparse.Namespace, console: Console) -> int:
    from sqlalchemy import select

    from autograder.batch.grade import default_db_url
    from autograder.batch.ledger import Ledger
    from autograder.serve import tables
    from autograder.serve.queue import MAX_ID, Queue, grade_again

    course = course_folder(args.course)
    db_url = args.db_url or default_db_url(course)
    engine = tables.connect(db_url)
    ledger = Ledger(db_url)
    try:
        query = select(tables.SUBMISSION.c.id).where(tables.SUBMISSION.c.state == "failed")
        if args.student:
            query = query.where(tables.SUBMISSION.c.student.in_(args.student))
        if args.assignment:
            query = query.where(tables.SUBMISSION.c.assignment.in_(args.assignment))
        if args.id:
            query = query.where(tables.SUBMISSION.c.id.in_([i for i in args.id
                                                             if 0 < i <= MAX_ID]))
        with engine.connect() as db:
            failed = [row.id for row in db.execute(query.order_by(tables.SUBMISSION.c.id))]
        again = grade_again(Queue(engine, "cnnkit-grade-again"), ledger, failed,
                            f"cnnkit grade-again ({getpass.getuser()})")
    finally:
        ledger.close()
        engine.dispose()
    if not again:
        console.print("No failed submission matches: nothing was put back in the queue.",
                      markup=False, highlight=False)
        return 0
    console.print(f"Put back in the queue, to be graded again: {len(again)} submission(s) "
                  f"({', '.join(f'#{i}' for i in again)}). The running service grades them as "
                  f"soon as a worker is free; a stopped one, when it starts.", markup=False,
                  highlight=False)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``cnnkit serve``, ``cnnkit tokens`` and ``cnnkit grade-again`` to the command line."""
    serve = add_command(
        sub, "serve", _serve, "Grade each submission as it arrives (exchange, web page and API) and "
        "give the student feedback within minutes.", "One long-running process for a course: "
        "students submit with `nbgrader submit` or upload on its web page; each submission waits "
        "in a durable queue in the course's database, is graded like `cnnkit grade` grades it, "
        "and its feedback goes back through nbgrader and the student's page. Stop it with Ctrl-C; "
        "start it again and it carries on.")
    # The course as the first argument, the older spelling of --course.
    serve.add_argument("course_folder", nargs="?", type=Path, default=None, help=argparse.SUPPRESS)
    add_options(serve, ServeSettings)

    tokens = add_command(
        sub, "tokens", _tokens, "Make the personal sign-in links of `cnnkit serve` from a roster "
        "(only their hashes are kept).", "Print (or write) one personal link per student of a "
        "roster CSV with a student_id column: student_id,token,link. The database keeps only the "
        "tokens' SHA-256 hashes, so a lost link cannot be shown again: make a new one with "
        "--reissue (the old one stops working).")
    tokens.add_argument("roster", nargs="?", type=Path, default=None,
                        help="A CSV with a student_id column (other columns are ignored).")
    add_options(tokens, Options, "instructor", "reissue", "output")
    add_options(tokens, ServeSettings, "db_url", "public_url")

    again = add_command(
        sub, "grade-again", _grade_again, "Put failed submissions of `cnnkit serve` back in its "
        "queue, to be graded again.", "Put the failed submissions of the grading service (those "
        "the instructor's page lists under Failed) back in its queue with their tries cleared: "
        "all of them, or those of the students, assignments or ids given. The running service "
        "grades them again as soon as a worker is free; each is logged.")
    add_options(again, Options, "student", "assignment", "id")
    add_options(again, ServeSettings, "db_url")
