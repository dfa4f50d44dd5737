"""Start ``cnnkit serve`` on loopback and measure it: the time a single submission to an idle
service takes to its feedback, then a burst of uploads from many students.

    python benchmarks/serve_burst.py                      # smoke budget: images alone, then the burst
    python benchmarks/serve_burst.py --budget cpu --skip-burst   # images and mnist_cnn alone, cpu budget
    python benchmarks/serve_burst.py --budget cpu --skip-burst --plain 3   # each beside plain nbgrader

The burst: ``--uploads`` uploads (default 200) from ``--students`` simulated students (default
40), sent at random moments within ``--seconds`` (default 60) through the HTTP API, each a
notebook of the sample class for ``images`` or ``pooling`` (references, correct alternatives,
realistic mistakes, the untouched release), so identical notebooks are reused as a class's would
be; ``--distinct`` makes every student's notebooks their own (more to run). A few uploads are bad
on purpose (not a notebook, an unknown assignment) to show their refusals. Then it waits until
every accepted submission is graded, failed or replaced, and prints: accepted, refused (with the
reasons), lost (accepted, never finished: must be 0), graded twice (more than one completed run
of one submission: must be 0), and the time from upload to feedback (median, 95th percentile,
max), overall and for each student's first upload (to the first feedback they get).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notebook_time import own_seconds  # noqa: E402 - beside this script


def make_course(workdir: Path, assignments: list[str]) -> Path:
    from autograder.authoring import build

    course = workdir / "course"
    build.make_course(ROOT, course)
    build.generate(course, assignments, solutions=False)
    return course


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``cnnkit serve`` as a process."""

    def __init__(self, course: Path, budget: str, workers: int | None, per_hour: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = course.parent / "serve.log"
        command = [sys.executable, "-m", "autograder.cli.main", "serve", str(course), "--port",
                   str(self.port), "--budget", budget, "--no-exchange", "--attempts-per-hour",
                   str(per_hour), "--rate-limit", "600"]
        if workers is not None:
            command += ["--workers", str(workers)]
        env = {**os.environ, "CNNKIT_BUDGET": budget, "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen(command, env=env, stdout=open(self.log, "w"),
                                        stderr=subprocess.STDOUT, cwd=ROOT)
        self.db = course / "gradebook.db"

    def wait_ready(self, timeout: float = 180.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"cnnkit serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                # Ready to grade: the first job preparation (seconds) is done.
                if httpx.get(f"{self.url}/healthz", timeout=2).json().get("grading") == "ready":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"cnnkit serve did not start:\n{self.log.read_text()[-3000:]}")

    def query(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def issue_tokens(course: Path, students: list[str]) -> dict[str, str]:
    from autograder.serve import tables
    from autograder.serve.tokens import Tokens

    engine = tables.connect(f"sqlite:///{course / 'gradebook.db'}")
    tokens = Tokens(engine)
    found = {student: tokens.issue(student) for student in students}
    engine.dispose()
    return found


def upload(server: Server, token: str, assignment: str, data: bytes, filename: str | None = None):
    import httpx

    return httpx.post(f"{server.url}/api/submissions", headers={"Authorization": f"Bearer {token}"},
                      data={"assignment": assignment},
                      files={"notebook": (filename or f"{assignment}.ipynb", data)}, timeout=120)


def wait_final(server: Server, ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(ids))
    while time.monotonic() < deadline:
        left = server.query(f"select count(*) from cnnkit_serve_submission where id in ({marks}) "
                            f"and state in ('waiting', 'running')", *ids)[0][0]
        if left == 0:
            return
        time.sleep(0.2)
    print(f"  (gave up waiting after {timeout:.0f} s)")


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def figures(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return f"{statistics.median(ordered):.1f} s / {p95:.1f} s / {ordered[-1]:.1f} s"


def single(server: Server, token: str, assignment: str, data: bytes, timeout: float) -> float:
    start = time.monotonic()
    response = upload(server, token, assignment, data)
    response.raise_for_status()
    submission = response.json()["id"]
    wait_final(server, [submission], timeout)
    [(state, received, finished)] = server.query(
        "select state, received, finished_at from cnnkit_serve_submission where id = ?", submission)
    client = time.monotonic() - start
    server_side = (stamp(finished) - stamp(received)).total_seconds()
    print(f"  {assignment}: {state}; upload to feedback {client:.1f} s (server: accepted to "
          f"feedback {server_side:.1f} s)")
    return client


def marked(data: bytes, mark: str) -> bytes:
    """``data`` with a mark in its metadata: a notebook of its own to the grader (no stored result)."""
    notebook = json.loads(data)
    notebook["metadata"]["cnnkit_benchmark_run"] = mark
    return json.dumps(notebook).encode("utf-8")


def plain_autograde(plain: Path, student: str, assignment: str, data: bytes,
                    budget: str) -> tuple[float, float]:
    """Plain ``nbgrader autograde`` of ``data`` in the course ``plain``: (wall seconds, the
    notebook's own cells' seconds)."""
    from autograder.authoring.nbgrader_run import run_nbgrader

    folder = plain / "submitted" / student / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_bytes(data)
    start = time.monotonic()
    run_nbgrader(["autograde", assignment, "--student", student, "--force"], plain,
                 env={"CNNKIT_BUDGET": budget, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.monotonic() - start
    return wall, own_seconds(plain / "autograded" / student / assignment / f"{assignment}.ipynb")


def side_by_side(server: Server, plain: Path, assignment: str, data: bytes, args) -> None:
    """The same notebook through the idle service and by plain ``nbgrader autograde``, alternating
    ``args.plain`` times (a distinct copy each time, so that nothing is reused); medians and ratio."""
    service, nbgrader, cells = [], [], []
    for index in range(args.plain):
        token = issue_tokens(server.db.parent, [f"solo-{assignment}-{index}"])[f"solo-{assignment}-{index}"]
        copy = marked(data, f"{assignment}-{index}")
        service.append(single(server, token, assignment, copy, args.timeout))
        wall, own = plain_autograde(plain, f"plain-{index}", assignment, copy, args.budget)
        nbgrader.append(wall)
        cells.append(own)
        print(f"  {assignment}: plain nbgrader autograde {wall:.1f} s, its notebook's own cells {own:.1f} s")
    ratio = statistics.median(service) / statistics.median(nbgrader)
    print(f"{assignment} ({args.budget} budget, {args.plain} of each, alternating): upload to feedback "
          f"median {statistics.median(service):.1f} s (min {min(service):.1f}, max {max(service):.1f}); "
          f"plain nbgrader autograde median {statistics.median(nbgrader):.1f} s (min {min(nbgrader):.1f}, "
          f"max {max(nbgrader):.1f}); the notebook's own cells median {statistics.median(cells):.1f} s; "
          f"service / plain {ratio:.2f}x")


def burst(server: Server, course: Path, args, notebooks: dict) -> None:
    students = [f"student{n:03d}" for n in range(args.students)]
    tokens = issue_tokens(course, students)
    rng = random.Random(args.seed)
    plan = []
    for index in range(args.uploads):
        student = students[index % len(students)]
        assignment = rng.choice(["images", "pooling"])
        variant = rng.choice(sorted(k for k in notebooks if k[1] == assignment))
        data = notebooks[variant]
        if args.distinct:
            nb = json.loads(data)
            nb["metadata"]["cnnkit_benchmark_owner"] = f"{student}-{variant[0]}"
            data = json.dumps(nb).encode("utf-8")
        plan.append((rng.uniform(0, args.seconds), student, assignment, data, None))
    # A few bad uploads, to show their refusals.
    for index in range(max(2, args.uploads // 50)):
        student = rng.choice(students)
        if index % 2:
            plan.append((rng.uniform(0, args.seconds), student, "images", b"not a notebook", None))
        else:
            plan.append((rng.uniform(0, args.seconds), student, "resnet99",
                         notebooks["reference", "images"], None))
    plan.sort(key=lambda item: item[0])
    results: list[tuple] = []
    lock = threading.Lock()
    start = time.monotonic()

    def send(item) -> None:
        at, student, assignment, data, filename = item
        time.sleep(max(0.0, start + at - time.monotonic()))
        sent = time.monotonic()
        try:
            response = upload(server, tokens[student], assignment, data, filename)
            outcome = (response.status_code, response.json())
        except Exception as exc:  # a refused connection would be a lost upload
            outcome = (0, {"error": f"{type(exc).__name__}: {exc}"})
        with lock:
            results.append((student, sent - start, time.monotonic() - sent, *outcome))

    load_before = os.getloadavg()
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(send, plan))
    sent_for = time.monotonic() - start
    accepted = [r for r in results if r[3] == 202]
    refused = [r for r in results if r[3] != 202]
    ids = [r[4]["id"] for r in accepted]
    print(f"  sent {len(results)} uploads from {len(students)} students in {sent_for:.1f} s "
          f"(upload answered in median {statistics.median(r[2] for r in results) * 1000:.0f} ms, "
          f"max {max(r[2] for r in results) * 1000:.0f} ms); waiting for the grading...")
    wait_final(server, ids, args.timeout)
    graded_at = time.monotonic() - start
    load_after = os.getloadavg()

    marks = ",".join("?" * len(ids))
    rows = server.query(f"select id, student, state, received, finished_at, how from "
                        f"cnnkit_serve_submission where id in ({marks})", *ids)
    runs = server.query(f"select submission_id, outcome from cnnkit_serve_run where submission_id "
                        f"in ({marks})", *ids)
    states = Counter(r[2] for r in rows)
    lost = len(ids) - sum(states[s] for s in ("done", "failed", "replaced"))
    completed = Counter(sid for sid, outcome in runs if outcome in ("graded", "failed"))
    twice = sum(1 for n in completed.values() if n > 1)
    delays = [(stamp(r[4]) - stamp(r[3])).total_seconds() for r in rows if r[2] in ("done", "failed")]
    first_upload: dict[str, datetime] = {}
    first_feedback: dict[str, datetime] = {}
    for sid, student, state, received, finished, _ in sorted(rows):
        first_upload.setdefault(student, stamp(received))
        if state in ("done", "failed"):
            moment = stamp(finished)
            first_feedback[student] = min(first_feedback.get(student, moment), moment)
    firsts = [(first_feedback[s] - first_upload[s]).total_seconds() for s in first_feedback]
    reasons = Counter(f"{r[3]} {r[4].get('error', '?')[:100]}" for r in refused)

    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| uploads sent | {len(results)} from {len(students)} students in {sent_for:.0f} s |")
    print(f"| accepted | {len(accepted)} |")
    print(f"| refused | {len(refused)} |")
    for reason, count in reasons.most_common():
        print(f"| - refused: {reason} | {count} |")
    print(f"| graded (ran) / reused / failed / replaced | {sum(1 for r in rows if r[2] == 'done' and r[5] == 'graded')} / "
          f"{sum(1 for r in rows if r[2] == 'done' and r[5] == 'reused')} / {states['failed']} / "
          f"{states['replaced']} |")
    print(f"| lost (must be 0) | {lost} |")
    print(f"| graded twice (must be 0) | {twice} |")
    print(f"| upload to feedback, all graded (median / p95 / max) | {figures(delays)} |")
    print(f"| upload to feedback, each student's first (median / p95 / max) | {figures(firsts)} |")
    print(f"| all feedback given after | {graded_at:.0f} s |")
    print(f"| load average (1 min) before / after | {load_before[0]:.1f} / {load_after[0]:.1f} |")


def main() -> int:
    import nbformat

    from autograder.authoring.samples import sample_class

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="smoke", choices=["smoke", "cpu"])
    parser.add_argument("--workers", type=int, default=None, help="local workers (default: what fits)")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--distinct", action="store_true",
                        help="give every student notebooks of their own (nothing reused across students)")
    parser.add_argument("--skip-burst", action="store_true", help="measure single submissions only")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the grading")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the scratch course")
    parser.add_argument("--plain", type=int, default=0, metavar="N",
                        help="also grade each single submission N times by plain nbgrader autograde, "
                             "alternating with the service, and print medians and the ratio")
    args = parser.parse_args()

    os.environ["CNNKIT_BUDGET"] = args.budget
    assignments = ["images", "pooling"] + (["mnist_cnn"] if args.budget == "cpu" else [])
    workdir = Path(tempfile.mkdtemp(prefix="cnnkit-serve-bench-"))
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; course in {workdir}")
    course = make_course(workdir, assignments)
    notebooks = {(s.student, s.assignment): nbformat.writes(s.notebook).encode("utf-8")
                 for s in sample_class.submissions(ROOT, assignments)}
    server = Server(course, args.budget, args.workers,
                    per_hour=10 if args.skip_burst else max(10, args.uploads))
    try:
        server.wait_ready()
        print(f"Single submissions to an idle service ({args.budget} budget):")
        token = issue_tokens(course, ["solo"])["solo"]
        singles = ["images"] if args.budget == "smoke" else ["images", "mnist_cnn"]
        if args.plain:
            plain = make_course(workdir / "plain", singles)
            for assignment in singles:
                side_by_side(server, plain, assignment, notebooks["reference", assignment], args)
        else:
            for assignment in singles:
                single(server, token, assignment, notebooks["reference", assignment], args.timeout)
        if not args.skip_burst:
            print(f"Burst: {args.uploads} uploads from {args.students} students within "
                  f"{args.seconds:.0f} s ({args.budget} budget):")
            burst(server, course, args, notebooks)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
