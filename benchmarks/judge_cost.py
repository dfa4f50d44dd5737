"""The judge's cost per submission, side by side with the kit before it (tests run in the kernel).

    python benchmarks/judge_cost.py --budget cpu --repeats 3
    python benchmarks/judge_cost.py --budget smoke --assignment images --assignment pooling

For each assignment, the reference solution is graded ``--repeats`` times by plain
``nbgrader autograde`` (one process per submission, one at a time, no sandbox in either, so that
only the judge differs), alternating between:

* **before**: the kit at ``--baseline`` (a git revision from before the judge; checked out in a
  temporary worktree and put first on ``PYTHONPATH``), whose test cells run in the kernel;
* **judge**: this kit, whose test cells the judge runs outside the kernel.

It prints, per assignment and path, the median and max of: the whole ``nbgrader autograde`` wall
time; the notebook's own execution (the kernel's time in the cells that are not tests, from
nbclient's timing); the *grading cost*, the wall time beyond that (nbgrader, the kernel's start,
and the tests: in the kernel before, in the judge now); and, for the judge, the seconds it spent
in test cells (its ``stats_file``) and the number of requests it made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notebook_time import own_seconds  # noqa: E402 - beside this script

#: The last revision whose test cells ran in the student's kernel.
BASELINE = "3996662"


def _course(kit: Path, folder: Path, assignment: str, pythonpath: str) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(kit / "nbgrader_config.py", folder)
    shutil.copytree(kit / "source" / assignment, folder / "source" / assignment)
    _nbgrader(["generate_assignment", assignment, "--force"], folder, pythonpath)
    return folder


def _nbgrader(args: list[str], course: Path, pythonpath: str, env: dict | None = None) -> float:
    environment = dict(os.environ, PYTHONPATH=pythonpath, TF_CPP_MIN_LOG_LEVEL="3", **(env or {}))
    environment["PATH"] = f"{Path(sys.executable).parent}:{environment.get('PATH', '')}"
    start = time.monotonic()
    process = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=environment,
                             capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{process.stdout[-2000:]}{process.stderr[-3000:]}")
    return time.monotonic() - start


def _grade(course: Path, kit: Path, assignment: str, student: str, pythonpath: str, budget: str,
           stats: Path | None) -> dict:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    shutil.copy(kit / "solutions" / assignment / f"{assignment}.ipynb", folder)
    args = ["autograde", assignment, "--student", student, "--force"]
    if stats is not None:
        args.append(f"--JudgedExecute.stats_file={stats}")
    wall = _nbgrader(args, course, pythonpath, {"CNNKIT_BUDGET": budget})
    own = own_seconds(course / "autograded" / student / assignment / f"{assignment}.ipynb")
    found = {"wall": wall, "own": own, "cost": wall - own}
    if stats is not None:
        found.update(json.loads(stats.read_text()))
    return found


def _row(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    return f"{statistics.median(values):.2f} / {max(values):.2f}"


def main() -> int:
    from autograder.authoring.course import ASSIGNMENT_IDS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENT_IDS)
    parser.add_argument("--baseline", default=BASELINE, help="The revision of the kit before the judge.")
    args = parser.parse_args()
    assignments = args.assignment or list(ASSIGNMENT_IDS)
    with tempfile.TemporaryDirectory(prefix="cnnkit-judge-cost-") as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.baseline],
                       check=True, capture_output=True)
        try:
            results = _measure(Path(tmp), old, assignments, args)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           capture_output=True)
    print(f"budget {args.budget}; {args.repeats} submission(s) of each reference solution per path, "
          f"graded one at a time by plain nbgrader autograde, the two paths alternating; "
          f"seconds as median / max")
    print("| assignment | path | wall | notebook's own cells | grading cost (wall - own) "
          "| judge in tests | requests |")
    print("|---|---|---|---|---|---|---|")
    for assignment in assignments:
        before, judged = results[assignment]["before"], results[assignment]["judge"]
        print(f"| {assignment} | before (tests in the kernel) | {_row(before, 'wall')} | "
              f"{_row(before, 'own')} | {_row(before, 'cost')} | - | - |")
        print(f"| {assignment} | judge | {_row(judged, 'wall')} | {_row(judged, 'own')} | "
              f"{_row(judged, 'cost')} | {_row(judged, 'judge_seconds')} | "
              f"{statistics.median(r['requests'] for r in judged):.0f} |")
    return 0


def _measure(tmp: Path, old: Path, assignments: list[str], args: argparse.Namespace) -> dict:
    results: dict = {}
    for assignment in assignments:
        courses = {"before": _course(old, tmp / "before-course" / assignment, assignment, str(old)),
                   "judge": _course(ROOT, tmp / "judge-course" / assignment, assignment, str(ROOT))}
        runs: dict[str, list[dict]] = {"before": [], "judge": []}
        for repeat in range(args.repeats):
            for path in ("before", "judge"):
                kit = old if path == "before" else ROOT
                stats = tmp / f"stats-{assignment}-{repeat}.json" if path == "judge" else None
                runs[path].append(_grade(courses[path], kit, assignment, f"ref-{repeat}", str(kit),
                                         args.budget, stats))
                print(f"{assignment} {path} {repeat + 1}: {runs[path][-1]}", file=sys.stderr)
        results[assignment] = runs
    return results


if __name__ == "__main__":
    sys.exit(main())
