"""The whole module for one student through ``cnnkit grade``: wall time against the sum of the
notebooks' own cell times.

    python benchmarks/module_overhead.py --budget cpu --repeats 1

Each repeat builds a scratch course with the six assignments, hands in the six reference
solutions as one student, and runs ``cnnkit grade`` on them (sandboxed kernels, the judge, the
gate, feedback) as a grader would, with the workers it chooses. It prints the command's wall
time, the notebooks' own execution (the kernel's time in the cells that are not tests, from
nbclient's timing in the executed notebooks), and the overhead: wall time over that sum, minus
one. With more than one worker the notebooks run side by side, so the wall time can be below
the sum.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notebook_time import own_seconds  # noqa: E402 - beside this script


def profile(course: Path) -> dict[str, dict[str, float]]:
    """Per assignment, from the runs the command stored: the ``nbgrader autograde`` process's
    wall time in the sandbox, the notebook's cells in it, and the judge's time at test cells."""
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("select assignment, seconds, cell_seconds, details from cnnkit_result").fetchall()
    return {a: {"process": seconds, "cells": cells,
                "judge": float(json.loads(details or "{}").get("judge_seconds", 0.0))}
            for a, seconds, cells, details in rows}


def one_run(budget: str, workers: int | None, assignments: list[str]) -> dict:
    from autograder.authoring import build
    from autograder.authoring.course import assignment

    workdir = Path(tempfile.mkdtemp(prefix="cnnkit-module-bench-"))
    try:
        course = workdir / "course"
        build.make_course(ROOT, course)
        build.generate(course, assignments, solutions=False)
        for assignment_id in assignments:
            name = assignment(assignment_id).notebook
            folder = course / "submitted" / "solo" / assignment_id
            folder.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / assignment_id / name, folder / name)
        command = [sys.executable, "-m", "autograder.cli.main", "grade", *assignments, "--course",
                   str(course), "--budget", budget]
        if workers is not None:
            command += ["--workers", str(workers)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200"}
        start = time.monotonic()
        process = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.monotonic() - start
        if process.returncode != 0:
            raise SystemExit(f"cnnkit grade failed:\n{process.stdout[-3000:]}{process.stderr[-3000:]}")
        per = {}
        for assignment_id in assignments:
            name = assignment(assignment_id).notebook
            per[assignment_id] = own_seconds(course / "autograded" / "solo" / assignment_id / name)
        scores = [line for line in process.stdout.splitlines() if line.startswith("graded ")]
        return {"wall": wall, "own": sum(per.values()), "per": per, "graded": len(scores),
                "profile": profile(course)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    from autograder.authoring.course import ASSIGNMENT_IDS

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="cnnkit grade's --workers")
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENT_IDS)
    args = parser.parse_args()
    assignments = args.assignment or list(ASSIGNMENT_IDS)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.budget} budget; "
          f"workers {args.workers or 'as cnnkit grade chooses'}")
    runs = []
    for index in range(args.repeats):
        found = one_run(args.budget, args.workers, assignments)
        runs.append(found)
        cells = ", ".join(f"{a} {s:.1f} s" for a, s in found["per"].items())
        print(f"run {index + 1}: {found['graded']} graded; wall {found['wall']:.1f} s; the notebooks' "
              f"own cells {found['own']:.1f} s ({cells}); overhead {found['wall'] / found['own'] - 1:+.0%}")
        print("| assignment | nbgrader autograde in the sandbox | cells (tests included) | judge at tests "
              "| the rest: nbgrader's and the kernel's start, feedback, writing |")
        print("|---|---|---|---|---|")
        for a, found_a in found["profile"].items():
            rest = found_a["process"] - found_a["cells"]
            print(f"| {a} | {found_a['process']:.1f} s | {found_a['cells']:.1f} s | {found_a['judge']:.2f} s "
                  f"| {rest:.1f} s |")
    wall = statistics.median(r["wall"] for r in runs)
    own = statistics.median(r["own"] for r in runs)
    print(f"median of {len(runs)}: wall {wall:.1f} s, own cells {own:.1f} s, overhead {wall / own - 1:+.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
