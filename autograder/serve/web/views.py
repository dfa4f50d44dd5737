"""What a student's page and the API show of a submission, as plain data.

The same dictionaries feed the templates and the JSON API, so the two always agree. Hidden test
code is never in them: a test's message is its exception's last line, as the feedback shows it.
The control characters of text from a run (messages, reasons, notes), which a page shows as boxes
and a terminal obeys, are written as escapes (``\\x1b``). What is only the instructor's to know
(review flags, whose notebook a result was reused from) is not in them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime

from autograder.batch.export import format_number
from autograder.serve import policy
from autograder.serve.deadlines import Deadline, duration, stamp
from autograder.serve.tables import as_utc

#: How each rule is said to a student.
RULES = {"latest": "Your latest graded attempt counts for your grade.",
         "best": "Your best graded attempt (the highest score after any late penalty) counts for "
                 "your grade."}

#: How each rule is said to the instructor.
INSTRUCTOR_RULES = {"latest": "The student's latest graded attempt counts for the grade.",
                    "best": "The student's best graded attempt (the highest score after any late "
                            "penalty) counts for the grade."}


def rule_text(rule: str, *, instructor: bool = False) -> str:
    """Which attempt counts, said to its reader."""
    return (INSTRUCTOR_RULES if instructor else RULES)[rule]


def readable(text: str) -> str:
    r"""``text`` with its control and format characters (terminal escapes, bidi overrides) written
    as Python escapes; line breaks and tabs kept.

    >>> readable("\x1b[31mred\x1b[0m\n\u202eok")
    '\\x1b[31mred\\x1b[0m\n\\u202eok'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
                   else ascii(ch)[1:-1] for ch in text)


#: Put into nbgrader's feedback page as served: it fits the frame's width on any screen, long
#: lines wrapped (the feedback's own layout is fixed-width), and says its viewport.
FEEDBACK_FIT = (b'<meta name="viewport" content="width=device-width, initial-scale=1">'
                b"<style>html, body { max-width: 100%; overflow-x: hidden; } "
                b"body, .container, #notebook-container, .jp-Notebook { width: auto !important; "
                b"min-width: 0 !important; margin: 0 !important; padding: .5rem !important; } "
                b"pre, code, .output_text, .output_error, .jp-OutputArea-output pre { "
                b"white-space: pre-wrap !important; overflow-wrap: anywhere !important; } "
                b"img, svg, table { max-width: 100%; height: auto; }</style>")


def fitted_feedback(html: bytes) -> bytes:
    """nbgrader's feedback page with :data:`FEEDBACK_FIT` at the start of its head (or first,
    when it has none).

    >>> fitted_feedback(b"<html><head><title>f</title></head></html>").startswith(b"<html><head><meta")
    True
    """
    lower = html[:4096].lower()
    at = lower.find(b"<head")
    if at >= 0:
        end = lower.find(b">", at)
        if end >= 0:
            return html[:end + 1] + FEEDBACK_FIT + html[end + 1:]
    return FEEDBACK_FIT + html


def counted_id(rows: Sequence, rule: str) -> int | None:
    """Of one student's submissions of one assignment, the one that counts."""
    attempts = [policy.Attempt(r.id, as_utc(r.received), r.score) for r in rows if r.state == "done"]
    chosen = policy.counted(attempts, rule)
    return chosen.id if chosen else None


def about(seconds: float) -> str:
    """A run's length in words, to the second under ten minutes.

    >>> about(42.4), about(100), about(120), about(3725)
    ('42 s', '1 min 40 s', '2 min', '1 h 2 min')
    """
    whole = round(seconds)
    if whole >= 600:
        return duration(whole)
    minutes, secs = divmod(whole, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def state_text(row, ahead: int = 0, identical_to: int | None = None, *,
               typical: tuple[float, int] | None = None, moment: datetime | None = None) -> str:
    """Where a submission stands, in a sentence or two; ``identical_to``, the student's own
    earlier submission with the very same notebook, when its result was reused (a result reused
    from another student's is not said: that would tell that someone sent the same file);
    ``typical``, how long graded runs of the assignment took here (median, how many), so that a
    waiting or running submission says what to expect; ``moment``, now."""
    expect = (f" Graded runs of {row.assignment} take about {about(typical[0])} here (the median "
              f"of the last {typical[1]})." if typical else "")
    if row.state == "waiting":
        return ((f"Waiting to be graded ({ahead} submission(s) ahead of it)." if ahead
                 else "Waiting to be graded: next in line.") + expect)
    if row.state == "running":
        started = as_utc(row.claimed_at)
        text = f"Being graded since {stamp(started)}"
        if moment is not None:
            elapsed = max(0.0, (moment - started).total_seconds())
            text += f" ({about(elapsed)} so far)"
            if typical and elapsed > 1.5 * typical[0] + 30:
                expect += " This one is taking longer than most; the page updates by itself."
        return text + "." + expect
    if row.state == "done":
        how = (f" (the same notebook as your submission #{identical_to}: its result was reused)"
               if row.how == "reused" and identical_to else "")
        return f"Graded at {stamp(as_utc(row.finished_at))}{how}."
    if row.state == "failed":
        return "Could not be graded: see the reason below."
    return (f"Replaced by submission #{row.replaced_by}, which came while this one was still "
            f"waiting; not graded.")


def late_text(row, penalised: bool = True) -> str:
    """The lateness and, when the course sets a late penalty (``penalised``), the penalty, in a
    sentence; empty when on time."""
    if not row.late_seconds:
        return ""
    text = f"Submitted {duration(row.late_seconds)} after the due date"
    if not penalised:
        return text + "."
    text += ": the course's late penalty applies"
    if row.state == "done" and row.penalty is not None:
        text += f" ({format_number(row.penalty)} point(s) taken off)."
    else:
        text += "."
    return text


def identical_earlier(row, history: Sequence) -> int | None:
    """The latest graded submission in ``history`` (the same student's, of the same assignment)
    before ``row`` with the very same notebook."""
    return max((r.id for r in history if r.id < row.id and r.state == "done"
                and r.sha256 == row.sha256 and r.assignment == row.assignment), default=None)


def attempt(row, *, counted: int | None, ahead: int = 0, history: Sequence = (),
            penalised: bool = True, typical: tuple[float, int] | None = None,
            moment: datetime | None = None) -> dict:
    """One submission as a page or the API shows it to its student; ``history``, the student's
    submissions of the assignment (to tell a result reused from their own earlier one);
    ``penalised``, whether the course sets a late penalty; ``typical`` and ``moment`` as for
    :func:`state_text`."""
    tests = json.loads(row.tests or "[]") if row.state == "done" else []
    return {
        "id": row.id,
        "assignment": row.assignment,
        "source": row.source,
        "received": stamp(as_utc(row.received)),
        "sha256": row.sha256,
        "state": row.state,
        "state_text": state_text(row, ahead, identical_earlier(row, history), typical=typical,
                                 moment=moment),
        "score": None if row.score is None else format_number(row.score),
        "max_score": None if row.max_score is None else format_number(row.max_score),
        "penalty": None if row.penalty is None else format_number(row.penalty),
        "late": late_text(row, penalised),
        "tests": [{"grade_id": t["grade_id"], "score": format_number(t["score"]),
                   "max_score": format_number(t["max_score"]),
                   "message": readable(t.get("message", "")),
                   "passed": t["score"] >= t["max_score"]} for t in tests],
        "reason": readable(row.reason) if row.state == "failed" else "",
        "notes": ([readable(n) for n in json.loads(row.notes or "[]")]
                  if row.state in ("done", "failed") else []),
        "replaced_by": row.replaced_by,
        "counts": counted == row.id,
        "final": row.state in ("done", "failed", "replaced"),
    }


def assignment_row(deadline: Deadline, rows: Sequence, rule: str, moment,
                   penalised: bool = True) -> dict:
    """An assignment on the student's page: its dates, whether it takes uploads now, and the
    student's grade in it; ``penalised``, whether the course sets a late penalty."""
    chosen = counted_id(rows, rule)
    counted_row = next((r for r in rows if r.id == chosen), None)
    closed = deadline.cutoff is not None and moment > deadline.cutoff
    if closed and deadline.cutoff is not None:
        status = f"closed at {stamp(deadline.cutoff)}"
    elif deadline.due is not None and moment > deadline.due:
        status = ("late: the course's late penalty applies" if penalised else
                  "past the due date") + (
            f"; closes at {stamp(deadline.cutoff)}" if deadline.cutoff else "")
    else:
        status = "open" + (f"; late submissions taken until {stamp(deadline.cutoff)}"
                           if deadline.cutoff else "")
    return {
        "id": deadline.assignment,
        "title": deadline.title,
        "due": stamp(deadline.due) if deadline.due else "no due date",
        "status": status,
        "open": not closed,
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


def assignments_json(deadlines: Mapping[str, Deadline], moment) -> list[dict]:
    """The assignments taking submissions at ``moment``, for the API (one past its cut-off is
    not)."""
    return [{"id": d.assignment, "title": d.title, "due": d.due.isoformat() if d.due else None,
             "cutoff": d.cutoff.isoformat() if d.cutoff else None} for d in deadlines.values()
            if d.cutoff is None or moment <= d.cutoff]
