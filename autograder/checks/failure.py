"""The one exception every check raises; its message has the kit's one shape
(:mod:`autograder.messages`).

nbgrader keeps only what a test cell's exception says, so the message is the whole explanation:
``<what>: expected X, got Y. <likely cause>``.
"""

from __future__ import annotations

from typing import Any

from autograder.messages import failure_message


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
