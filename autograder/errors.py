"""The one kind of error a user fixes by changing what they gave the kit.

A :class:`BadInput` says what was expected, what came, and the fix, in one line, so the command
line prints it as it is and exits with status 2, without a traceback. Anything else that escapes
is a fault of the kit or of its surroundings (a full disk, a lost database): the command line
says so and exits with status 1.
"""

from __future__ import annotations


class BadInput(ValueError):
    """Input the user can fix: a missing or unusable file or folder, an unknown name, a bad
    option. The message has the kit's one shape: ``what: expected X, got Y. Fix.``"""
