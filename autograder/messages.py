"""The kit's one message shape: ``<what>: expected X, got Y. <likely cause>``.

Every failure the kit reports is worded here: a check's (:class:`autograder.checks.CheckFailure`),
a fit refused for exceeding the budget (:mod:`autograder.training_guard`), the accuracy gate's
(:mod:`autograder.judge.gate`). nbgrader keeps only what a test cell's exception says, so the
message is the whole explanation. This module imports nothing of the kit, so that every module
of it, in the student's kernel or in the judge, can word a failure without importing the checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: A failure before it is worded: (what, expected, got, likely cause), the arguments of
#: :func:`failure_message`. A refused fit or a disqualified training run is kept in this form.
Problem = tuple[str, str, str, str]


def failure_message(what: str, expected: Any, got: Any, cause: str = "") -> str:
    """Word a failed check as ``<what>: expected X, got Y. <likely cause>``.

    >>> failure_message("image_after_conv.shape", (2, 427, 640, 5), (2, 421, 634, 5), "Check the padding.")
    'image_after_conv.shape: expected (2, 427, 640, 5), got (2, 421, 634, 5). Check the padding.'
    """
    message = f"{what}: expected {describe(expected)}, got {describe(got)}."
    if cause:
        message += " " + cause.strip()
    return message


def describe(value: Any) -> str:
    """A short, readable rendering of a value for a failure message (never a whole array)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        array = np.asarray(value)
        return f"an array of shape {tuple(array.shape)} and dtype {array.dtype}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, np.generic):
        return describe(value.item())
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
