"""Text from a submission is data: make it harmless where the grader reads it.

Student ids, file and zip member names, grade ids, failure reasons, notes and review flags all come
from what students upload, or from what their notebooks print. Shown raw, such text could drive a
terminal (an ANSI escape sequence recolours it or moves the cursor; a carriage return hides what
came before it), reorder what a reader sees (Unicode bidi overrides, "Trojan Source"), run as a
formula when ``grades.csv`` is opened in a spreadsheet, or run as script in the class report.

One function per destination, each applied where the text is written, not where it is read, so
that the gradebook keeps the text as it came:

- :func:`for_terminal`: every control character shown escaped, as Python writes it (``\\x1b``,
  ``\\r``, ``\\u202e``); one line stays one line.
- :func:`for_csv`: the same, except tab and newline, which CSV quotes; and a cell that starts as a
  formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'``.
- :func:`for_html`: the same as for CSV, then HTML-escaped (``markupsafe``, as Jinja2's
  autoescape does); already safe :class:`~markupsafe.Markup` passes unchanged.

A backslash is left as it is: ``\\x1b`` in the output may be an escape character shown or the four
characters typed; either way it does nothing.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

#: Unicode's bidirectional formatting characters (embeddings, overrides, isolates, marks): they
#: make text display in another order than it is stored.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

#: What is shown escaped: C0 controls, DEL, C1 controls, the line and paragraph separators, and
#: :data:`BIDI_CONTROLS`.
CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")

#: The first characters that make a spreadsheet read a CSV cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with each control character (see :data:`CONTROLS`) not in ``keep`` written as
    Python writes it in a string literal.

    >>> escape_controls("\\x1b[31mred\\x1b[0m\\r\\u202eok")
    '\\\\x1b[31mred\\\\x1b[0m\\\\r\\\\u202eok'
    """
    def shown(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        if char in _SHORT:
            return _SHORT[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return CONTROLS.sub(shown, text)


def for_terminal(text: object) -> str:
    """``text`` safe to print on a terminal: no character in it acts, and it stays on one line.

    >>> for_terminal("alice\\x1b[2J\\rbob")
    'alice\\\\x1b[2J\\\\rbob'
    """
    return escape_controls(str(text))


def for_csv(text: object) -> str:
    """``text`` safe as a CSV cell: control characters escaped (tab and newline kept, the CSV
    writer quotes them), and a leading ``'`` when a spreadsheet would run it as a formula.

    >>> for_csv('=HYPERLINK("http://x", "y")')
    '\\'=HYPERLINK("http://x", "y")'
    >>> for_csv("-1 point: shape (3, 3)")
    "'-1 point: shape (3, 3)"
    """
    cleaned = escape_controls(str(text), keep="\t\n")
    return f"'{cleaned}" if cleaned.startswith(FORMULA_STARTS) else cleaned


def for_html(value: object) -> Markup:
    """``value`` as text in an HTML page: control characters escaped (tab and newline kept, for
    ``white-space: pre-wrap``), then HTML-escaped. :class:`~markupsafe.Markup` (markup the kit
    made, such as a plot's SVG) is returned unchanged.

    Use it as a Jinja2 environment's ``finalize``, so every ``{{ value }}`` goes through it.

    >>> str(for_html("<script>\\x1b"))
    '&lt;script&gt;\\\\x1b'
    """
    if isinstance(value, Markup):
        return value
    return escape(escape_controls(str(value), keep="\t\n"))
