"""Reading cells of a submitted notebook as plain JSON data, which may be malformed."""

from __future__ import annotations

import re
from typing import Mapping

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*$",
                     re.MULTILINE | re.DOTALL)


def grade_id(cell: Mapping) -> str | None:
    """The cell's nbgrader grade id, or None."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def source(cell: Mapping) -> str:
    """The cell's source as one string (nbformat allows a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def visible(text: str) -> str:
    """A locked cell as the student's release shows it, for comparison: hidden tests removed,
    blank lines and trailing spaces ignored."""
    return "\n".join(line.rstrip() for line in _HIDDEN.sub("", text).splitlines() if line.strip())
