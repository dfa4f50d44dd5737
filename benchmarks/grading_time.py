"""Time `nbgrader autograde` on the reference solutions, per assignment, and print a table.

    python benchmarks/grading_time.py --budget cpu --repeats 3

Each repeat is one submission of the reference solution graded in its own `nbgrader autograde`
process, one after another (no other grading at the same time); the time includes nbgrader's
start, the kernel, the notebook and the writing of grades.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    import nbformat
    from rich.console import Console

    from autograder.authoring.course import ASSIGNMENT_IDS, assignment
    from autograder.authoring.samples.run import grade
    from autograder.authoring.samples.sample_class import SampleSubmission

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignment", action="append", choices=ASSIGNMENT_IDS)
    args = parser.parse_args()
    assignments = args.assignment or list(ASSIGNMENT_IDS)
    items = []
    for assignment_id in assignments:
        notebook = nbformat.read(ROOT / "solutions" / assignment_id / assignment(assignment_id).notebook, 4)
        for i in range(args.repeats):
            # A distinct copy per repeat: the batch grader would not run an identical one twice.
            copy = nbformat.from_dict(notebook)
            copy.metadata["benchmark_copy"] = i
            items.append(SampleSubmission(f"reference-{i + 1}", assignment_id, copy, None, True))
    with tempfile.TemporaryDirectory() as tmp:
        graded = grade(ROOT, Path(tmp) / "course", budget=args.budget, assignments=assignments, items=items,
                       feedback=False, jobs=1, console=Console(file=io.StringIO()))
    print(f"budget: {args.budget}; {args.repeats} submission(s) of each reference solution, graded one at a time")
    print("| assignment | score | seconds median | min | max |")
    print("|---|---|---|---|---|")
    for assignment_id in assignments:
        runs = [g.result for g in graded if g.submission.assignment == assignment_id]
        seconds = [r.seconds for r in runs]
        scores = sorted({f"{r.score:g}/{r.max_score:g}" for r in runs})
        print(f"| {assignment_id} | {', '.join(scores)} | {statistics.median(seconds):.1f} | "
              f"{min(seconds):.1f} | {max(seconds):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
