"""What a student's page and the API show of a submission, as plain data.

The same dictionaries feed the templates and the JSON API, so the two always agree. Hidden test
code is never in them: a test's message is its exception's last line, as the feedback shows it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from autograder.batch.export import format_number
from autograder.serve import policy
from autograder.serve.deadlines import Deadline, duration, stamp
from autograder.serve.tables import as_utc

#: How each rule is said to a student.
RULES = {"latest": "Your latest graded attempt counts for your grade.",
         "best": "Your best graded attempt (the highest score after any late penalty) counts for "
                 "your grade."}


def counted_id(rows: Sequence, rule: str) -> int | None:
    """Of one student's submissions of one assignment, the one that counts."""
    attempts = [policy.Attempt(r.id, as_utc(r.received), r.score) for r in rows if r.state == "done"]
    chosen = policy.counted(attempts, rule)
    return chosen.id if chosen else None


def state_text(row, ahead: int = 0) -> str:
    """Where a submission stands, in a sentence."""
    if row.state == "waiting":
        return (f"Waiting to be graded ({ahead} submission(s) ahead of it)." if ahead
                else "Waiting to be graded: next in line.")
    if row.state == "running":
        return f"Being graded since {stamp(as_utc(row.claimed_at))}."
    if row.state == "done":
        how = " (identical to an earlier notebook: its result was reused)" if row.how == "reused" else ""
        return f"Graded at {stamp(as_utc(row.finished_at))}{how}."
    if row.state == "failed":
        return "Could not be graded: see the reason below."
    return (f"Replaced by submission #{row.replaced_by}, which came while this one was still "
            f"waiting; not graded.")


def late_text(row) -> str:
    """The lateness and the penalty, in a sentence; empty when on time."""
    if not row.late_seconds:
        return ""
    text = f"Submitted {duration(row.late_seconds)} after the due date: nbgrader's late penalty applies"
    if row.state == "done" and row.penalty is not None:
        text += f" ({format_number(row.penalty)} point(s) taken off)."
    else:
        text += "."
    return text


def attempt(row, *, counted: int | None, ahead: int = 0) -> dict:
    """One submission as a page or the API shows it to its student."""
    tests = json.loads(row.tests or "[]") if row.state == "done" else []
    return {
        "id": row.id,
        "assignment": row.assignment,
        "source": row.source,
        "received": stamp(as_utc(row.received)),
        "sha256": row.sha256,
        "state": row.state,
        "state_text": state_text(row, ahead),
        "score": None if row.score is None else format_number(row.score),
        "max_score": None if row.max_score is None else format_number(row.max_score),
        "penalty": None if row.penalty is None else format_number(row.penalty),
        "late": late_text(row),
        "tests": [{"grade_id": t["grade_id"], "score": format_number(t["score"]),
                   "max_score": format_number(t["max_score"]), "message": t.get("message", ""),
                   "passed": t["score"] >= t["max_score"]} for t in tests],
        "reason": row.reason if row.state == "failed" else "",
        "notes": json.loads(row.notes or "[]") if row.state in ("done", "failed") else [],
        "replaced_by": row.replaced_by,
        "counts": counted == row.id,
        "final": row.state in ("done", "failed", "replaced"),
    }


def assignment_row(deadline: Deadline, rows: Sequence, rule: str, moment) -> dict:
    """An assignment on the student's page: its dates, and the student's grade in it."""
    chosen = counted_id(rows, rule)
    counted_row = next((r for r in rows if r.id == chosen), None)
    if deadline.cutoff is not None and moment > deadline.cutoff:
        status = f"closed at {stamp(deadline.cutoff)}"
    elif deadline.due is not None and moment > deadline.due:
        status = "late: nbgrader's late penalty applies" + (
            f"; closes at {stamp(deadline.cutoff)}" if deadline.cutoff else "")
    else:
        status = "open" + (f"; late submissions taken until {stamp(deadline.cutoff)}"
                           if deadline.cutoff else "")
    return {
        "id": deadline.assignment,
        "title": deadline.title,
        "due": stamp(deadline.due) if deadline.due else "no due date",
        "status": status,
        "counted": chosen,
        "grade": (f"{format_number(counted_row.score)} / {format_number(counted_row.max_score)}"
                  if counted_row is not None else "not graded yet"),
        "attempts": len(rows),
    }


def queue_position(row, waiting: Sequence) -> int:
    """How many waiting submissions were accepted before ``row`` (0 when it is not waiting)."""
    if row.state != "waiting":
        return 0
    return sum(1 for w in waiting if w.id < row.id)


def assignments_json(deadlines: Mapping[str, Deadline]) -> list[dict]:
    """The open assignments for the API."""
    return [{"id": d.assignment, "title": d.title, "due": d.due.isoformat() if d.due else None,
             "cutoff": d.cutoff.isoformat() if d.cutoff else None} for d in deadlines.values()]
