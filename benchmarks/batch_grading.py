"""Grade one batch of the whole module twice on this machine, side by side: with plain serial
``nbgrader autograde`` and with the kit's batch grader; print both times, their ratio, and the
kit's overhead per submission beyond the notebook's own execution.

    python benchmarks/batch_grading.py --budget cpu --students 4

The batch has ``--students`` submissions of each of the six assignments (the reference solution, a
correct alternative and realistic mistakes from the sample class, each a distinct notebook).
Plain nbgrader runs ``nbgrader autograde <assignment>`` once per assignment, which grades its
students one after another (its fastest serial use: one start per assignment). The kit runs
``grade_class`` with its default worker count. Both start from copies of the same course, and
the grades of the two runs are compared test by test.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def batch(students: int):
    """``students`` distinct sample submissions per assignment, references first."""
    from autograder.authoring.course import ASSIGNMENT_IDS
    from autograder.authoring.samples import sample_class

    chosen = []
    for assignment_id in ASSIGNMENT_IDS:
        pool = [s for s in sample_class.submissions(ROOT, [assignment_id])
                if s.student != sample_class.UNMODIFIED and not s.student.startswith("tampering")]
        chosen += pool[:students]
    return chosen


def main() -> int:
    from rich.console import Console

    from autograder.authoring import build
    from autograder.batch.grade import Settings, grade_class
    from autograder.batch.outcome import Submission
    from autograder.batch.runner import cell_seconds
    from autograder.authoring.course import ASSIGNMENT_IDS
    from autograder.authoring.nbgrader_run import run_nbgrader
    from autograder.batch.results import read_submission

    import nbformat

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--students", type=int, default=4, help="submissions per assignment")
    parser.add_argument("--workers", type=int, default=None, help="kit workers (default: what fits)")
    args = parser.parse_args()

    from autograder.authoring.samples import sample_class

    items = batch(args.students)
    with tempfile.TemporaryDirectory(prefix="cnnkit-bench-") as tmp:
        prepared = Path(tmp) / "prepared"
        build.make_course(ROOT, prepared)
        build.generate(prepared, ASSIGNMENT_IDS, solutions=False)
        sample_class.write(prepared, items)
        subs = [Submission(i.student, i.assignment, prepared / "submitted" / i.student / i.assignment
                           / f"{i.assignment}.ipynb", i.description) for i in items]
        print(f"{len(subs)} submissions ({args.students} per assignment), budget '{args.budget}'", flush=True)

        serial = shutil.copytree(prepared, Path(tmp) / "serial")
        start = time.monotonic()
        for assignment_id in ASSIGNMENT_IDS:
            run_nbgrader(["autograde", assignment_id, "--force"], serial, env={"CNNKIT_BUDGET": args.budget})
        serial_seconds = time.monotonic() - start
        serial_cells = sum(cell_seconds(nbformat.read(serial / "autograded" / s.student / s.assignment
                                                      / f"{s.assignment}.ipynb", 4)) for s in subs)
        print(f"serial nbgrader: {serial_seconds:.0f} s", flush=True)

        kit = shutil.copytree(prepared, Path(tmp) / "kit")
        kit_subs = [Submission(s.student, s.assignment, kit / s.notebook.relative_to(prepared), s.origin)
                    for s in subs]
        start = time.monotonic()
        result = grade_class(kit, kit_subs, Settings(budget=args.budget, workers=args.workers, feedback=False),
                             Console(file=io.StringIO(), width=160))
        kit_seconds = time.monotonic() - start
        from autograder.batch.ledger import Ledger

        ledger = Ledger(f"sqlite:///{kit / 'gradebook.db'}")
        overheads, kit_cells = [], 0.0
        for job_outcome in result.outcomes:
            stored = ledger.result(job_outcome.job_key)
            kit_cells += stored.cell_seconds
            overheads.append(stored.seconds - stored.cell_seconds)
        ledger.close()
        workers = result.where.split(" local", 1)[0]

        differ = []
        for s in subs:
            a = read_submission(serial, s.assignment, s.student)
            b = read_submission(kit, s.assignment, s.student)
            if [(t.grade_id, t.score) for t in a.tests] != [(t.grade_id, t.score) for t in b.tests]:
                differ.append(f"{s.student}/{s.assignment}: nbgrader {a.score:g}, kit {b.score:g}")

    serial_overhead = (serial_seconds - serial_cells) / len(subs)
    print()
    print("| grader | workers | wall time | notebooks' own execution | overhead per submission |")
    print("|---|---|---|---|---|")
    print(f"| `nbgrader autograde`, serial | 1 | {serial_seconds:.0f} s | {serial_cells:.0f} s | "
          f"{serial_overhead:.1f} s (mean) |")
    print(f"| `cnnkit grade` | {workers} | {kit_seconds:.0f} s | {kit_cells:.0f} s | "
          f"{statistics.median(overheads):.1f} s median, {max(overheads):.1f} s max |")
    print()
    print(f"speed-up: {serial_seconds / kit_seconds:.2f}x ({len(subs)} submissions, budget "
          f"'{args.budget}')")
    print("grades: " + ("identical, test by test" if not differ else "DIFFER: " + "; ".join(differ)))
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
