"""``cnnkit serve``, ``cnnkit tokens`` and ``cnnkit grade-again``: the command line of the grading
service (:mod:`autograder.serve`), a thin layer over its settings and functions."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import os
from pathlib import Path
from urllib.parse import quote

from rich.console import Console

from autograder import budget as budgets
from autograder.authoring import course as courses
from autograder.errors import BadInput
from autograder.serve.settings import COUNTS, ServeSettings, help_text


def _course(path: Path | None) -> Path:
    """The course folder: the one given, else this folder; it must hold ``nbgrader_config.py``,
    and becomes the course of this process."""
    path = (path or Path.cwd()).resolve()
    if not (path / "nbgrader_config.py").is_file():
        raise BadInput(f"course: expected a folder with nbgrader_config.py, got {path}. Run from "
                       f"the course folder or give it as the first argument.")
    return courses.use(path).root


def _bytes(text: str) -> int:
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(text))
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected a size such as 20MB or 512KiB, got {text!r}") from None


def _help(name: str, default=None) -> str:
    text = help_text(name)
    return text if default is None else f"{text} (default: {default})"


def _serve(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch.limits import configured
    from autograder.serve.service import serve

    settings = ServeSettings(
        course=_course(args.course), db_url=args.db_url, host=args.host, port=args.port,
        budget=args.budget, workers=args.workers, scheduler=args.scheduler,
        attempts_per_hour=args.attempts_per_hour, counts=args.counts, cutoff=args.cutoff,
        max_upload=args.max_upload, exchange=not args.no_exchange, poll_seconds=args.poll_seconds,
        rate_limit=args.rate_limit, session_hours=args.session_hours, public_url=args.public_url,
        trusted_proxies=args.trusted_proxies, output=args.output,
        limits=configured(",".join(args.limit or [])))
    serve(settings, echo=lambda line: console.print(line, markup=False, highlight=False))
    return 0


def _tokens(args: argparse.Namespace, console: Console) -> int:
    from autograder.batch.grade import default_db_url
    from autograder.serve import tables
    from autograder.serve.tokens import Tokens, roster_students

    course = _course(args.course)
    tokens = Tokens(tables.connect(args.db_url or default_db_url(course)))
    url = (args.url or ServeSettings(course=course).url).rstrip("/")
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

    course = _course(args.course)
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


def register(subparsers) -> None:
    """Add ``cnnkit serve``, ``cnnkit tokens`` and ``cnnkit grade-again`` to the command line's
    ``subparsers``."""
    defaults = ServeSettings()
    serve = subparsers.add_parser(
        "serve", help="Grade each submission as it arrives (exchange, web page and API) and give "
                      "the student feedback within minutes.",
        description="One long-running process for a course: students submit with `nbgrader "
                    "submit` or upload on its web page; each submission waits in a durable queue "
                    "in the course's database, is graded like `cnnkit grade` grades it, and its "
                    "feedback goes back through nbgrader and the student's page. Stop it with "
                    "Ctrl-C; start it again and it carries on.")
    serve.add_argument("course", nargs="?", type=Path, default=None,
                       help="The nbgrader course folder (default: this folder if it has "
                            "nbgrader_config.py, else the kit's repository).")
    serve.add_argument("--db-url", default=None, help=_help("db_url"))
    serve.add_argument("--host", default=defaults.host, help=_help("host", defaults.host))
    serve.add_argument("--port", type=int, default=defaults.port, help=_help("port", defaults.port))
    serve.add_argument("--budget", default=defaults.budget, choices=sorted(budgets.BUDGETS),
                       help=_help("budget", defaults.budget))
    serve.add_argument("--workers", type=int, default=None, help=_help("workers"))
    serve.add_argument("--scheduler", default=None, metavar="ADDRESS", help=_help("scheduler"))
    serve.add_argument("--attempts-per-hour", type=int, default=defaults.attempts_per_hour,
                       help=_help("attempts_per_hour", defaults.attempts_per_hour))
    serve.add_argument("--counts", choices=COUNTS, default=defaults.counts,
                       help=_help("counts", defaults.counts))
    serve.add_argument("--cutoff", default=None, metavar="DURATION|TIME", help=_help("cutoff"))
    serve.add_argument("--max-upload", type=_bytes, default=defaults.max_upload, metavar="SIZE",
                       help=_help("max_upload", "20MiB"))
    serve.add_argument("--no-exchange", action="store_true",
                       help="Do not watch the nbgrader exchange (web page and API only).")
    serve.add_argument("--poll-seconds", type=float, default=defaults.poll_seconds,
                       help=_help("poll_seconds", defaults.poll_seconds))
    serve.add_argument("--rate-limit", type=int, default=defaults.rate_limit,
                       help=_help("rate_limit", defaults.rate_limit))
    serve.add_argument("--session-hours", type=float, default=defaults.session_hours,
                       help=_help("session_hours", defaults.session_hours))
    serve.add_argument("--public-url", default=None, help=_help("public_url"))
    serve.add_argument("--trusted-proxies", default=defaults.trusted_proxies,
                       help=_help("trusted_proxies", defaults.trusted_proxies))
    serve.add_argument("--output", type=Path, default=None, help=_help("output"))
    serve.add_argument("--limit", action="append", default=None, metavar="NAME=VALUE",
                       help="Change a limit of each notebook's run, as for `cnnkit grade` "
                            "(repeatable).")
    serve.set_defaults(run=_serve)

    tokens = subparsers.add_parser(
        "tokens", help="Make the personal sign-in links of `cnnkit serve` from a roster (only "
                       "their hashes are kept).",
        description="Print (or write) one personal link per student of a roster CSV with a "
                    "student_id column: student_id,token,link. The database keeps only the "
                    "tokens' SHA-256 hashes, so a lost link cannot be shown again: make a new "
                    "one with --reissue (the old one stops working).")
    tokens.add_argument("roster", nargs="?", type=Path, default=None,
                        help="A CSV with a student_id column (other columns are ignored).")
    tokens.add_argument("--instructor", nargs="?", const="instructor", default=None, metavar="NAME",
                        help="Make the instructor's link instead (name default: instructor); it "
                             "opens the live overview of the queue and the class's grades.")
    tokens.add_argument("--course", type=Path, default=None,
                        help="The nbgrader course folder (default: as for cnnkit serve).")
    tokens.add_argument("--db-url", default=None, help=_help("db_url"))
    tokens.add_argument("--url", default=None,
                        help="The address students open, for the links (default: "
                             f"{defaults.url}; behind a TLS proxy, its https address).")
    tokens.add_argument("--reissue", action="store_true",
                        help="Make new links for students who have one (theirs stop working).")
    tokens.add_argument("--output", type=Path, default=None,
                        help="Write the links to this CSV file (readable by you only) instead of "
                             "printing them.")
    tokens.set_defaults(run=_tokens)

    again = subparsers.add_parser(
        "grade-again", help="Put failed submissions of `cnnkit serve` back in its queue, to be "
                            "graded again.",
        description="Put the failed submissions of the grading service (those the instructor's "
                    "page lists under Failed) back in its queue with their tries cleared: all of "
                    "them, or those of the students, assignments or ids given. The running "
                    "service grades them again as soon as a worker is free; each is logged.")
    again.add_argument("--student", action="append", default=None,
                       help="Only this student's failed submissions (repeatable).")
    again.add_argument("--assignment", action="append", default=None,
                       help="Only the failed submissions of this assignment (repeatable).")
    again.add_argument("--id", action="append", type=int, default=None,
                       help="Only this submission id (repeatable).")
    again.add_argument("--course", type=Path, default=None,
                       help="The nbgrader course folder (default: as for cnnkit serve).")
    again.add_argument("--db-url", default=None, help=_help("db_url"))
    again.set_defaults(run=_grade_again)
