"""The one exception every check raises, and the one way its message is worded.

nbgrader keeps only what a test cell's exception says, so the message is the whole explanation:
``<what>: expected X, got Y. <likely cause>``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CheckFailure(AssertionError):
    """A check on a student's answer failed; the message says what, how, and the likely cause.

    It subclasses ``AssertionError`` so that a failed check reads in a notebook like a failed
    ``assert``, and so that nbgrader scores the test cell 0.
    """

    def __init__(self, what: str, expected: Any, got: Any, cause: str = "") -> None:
        self.what = what
        self.expected = expected
        self.got = got
        self.cause = cause
        super().__init__(failure_message(what, expected, got, cause))


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
