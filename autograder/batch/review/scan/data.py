"""Data a notebook carries, where a person looks for trained weights: the limits, in bytes, the
measure of a cell's literals and comments (:class:`Data`), and the notebook's totals over its
cells, outputs, attachments and metadata."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping

from autograder.batch.review import cells

#: One string (or number) literal larger than this is reported.
LITERAL_LIMIT = 16 * 1024
#: String literals of one cell larger than this in all are reported.
CELL_STRINGS_LIMIT = 64 * 1024
#: More numbers than this written as literals in one cell are reported.
CELL_NUMBERS_LIMIT = 2_000
#: Comments of one cell larger than this in all are reported (a cell can read its own source).
CELL_COMMENTS_LIMIT = 16 * 1024
#: A cell larger than this is reported when nothing above explains it (one that does not parse,
#: larger than :data:`LITERAL_LIMIT`: its literals could not be counted).
CELL_SOURCE_LIMIT = 64 * 1024
#: Literals and comments of all the student's cells over this (weights spread over cells).
NOTEBOOK_LITERALS_LIMIT = 128 * 1024
#: Non-image outputs, attachments, metadata, raw and markdown text over this, in one notebook.
NOTEBOOK_PAYLOAD_LIMIT = 1024 * 1024
#: When a notebook is over :data:`NOTEBOOK_PAYLOAD_LIMIT`, the cells carrying at least this.
PAYLOAD_DETAIL = 16 * 1024


class Data:
    """Data literals in one cell (its magics' code included), to find trained weights."""

    def __init__(self, source: int = 0) -> None:
        self.largest: tuple[int, int, str] = (0, 0, "")  # size, line, what
        self.strings = self.numbers = self.number_bytes = self.first_number = self.comments = 0
        self.source = source
        self.unread = False

    def total(self) -> int:
        """Bytes of string and number literals and comments in all."""
        return self.strings + self.number_bytes + self.comments

    def constant(self, line: int, value: object, width: int) -> None:
        """Count the constant ``value`` written on ``line`` in ``width`` characters (numbers by
        how they are written, strings by their bytes, other constants not at all)."""
        if isinstance(value, (str, bytes)):
            size = len(value) if isinstance(value, bytes) else cells.data_size(value)
            self.string(line, size, f"a string literal of {_kind(value)}")
        elif isinstance(value, (int, float, complex)) and not isinstance(value, bool):
            self.numbers += 1
            self.number_bytes += width
            self.first_number = self.first_number or line
            self.largest = max(self.largest, (width, line, "a number literal"), key=lambda t: t[0])

    def string(self, line: int, size: int, what: str) -> None:
        """Count text of ``size`` bytes on ``line``: a string literal, or a magic's text."""
        self.strings += size
        self.largest = max(self.largest, (size, line, what), key=lambda t: t[0])

    def comments_of(self, python: str) -> None:
        """Count the comments of ``python`` (what does not tokenize is left uncounted)."""
        try:
            self.comments += sum(len(t.string) for t in tokenize.generate_tokens(io.StringIO(python).readline)
                                 if t.type == tokenize.COMMENT)
        except (tokenize.TokenError, SyntaxError):
            pass

    def reasons(self, where: str) -> list[tuple[int, str]]:
        """(line, reason) for each kind of data over its limit, naming ``where`` it is."""
        found: list[tuple[int, int, str]] = []  # line, bytes, what
        size, line, what = self.largest
        if size > LITERAL_LIMIT:
            found.append((line, size, f"{what} on line {line}"))
        elif self.strings > CELL_STRINGS_LIMIT:
            found.append((1, self.strings, "string literals"))
        if self.numbers > CELL_NUMBERS_LIMIT:
            what = f"{self.numbers:,} numbers written as literals, from line {self.first_number}"
            found.append((self.first_number, self.number_bytes, what))
        if self.comments > CELL_COMMENTS_LIMIT:
            found.append((1, self.comments, "comments"))
        if not found and self.source > (LITERAL_LIMIT if self.unread else CELL_SOURCE_LIMIT):
            found.append((1, self.source, "text the scan could not parse" if self.unread else "code"))
        return [(line, _carries(size, f"{where}: {what}")) for line, size, what in found]


def notebook_reports(nb: Mapping, literals: Mapping[str, int]) -> list[str]:
    """Reports of the data a notebook carries in all: ``literals`` maps each of the student's
    cells (as reports name it) to the bytes of its literals and comments; the outputs,
    attachments and metadata beside the code are read from ``nb``."""
    reports = []
    total = sum(literals.values())
    if total > NOTEBOOK_LITERALS_LIMIT:
        carrying = [where for where, size in literals.items() if size >= 1024]
        named = ", ".join(carrying[:5]) + (", ..." if len(carrying) > 5 else "")
        reports.append(_carries(total, f"the literals and comments of {len(carrying)} cells ({named})"))
    carried = [(cells.where(i, cells.grade_id(c)), cells.payload(c)) for i, c in enumerate(cells.of(nb))
               if isinstance(c, Mapping)]
    metadata = nb.get("metadata") if isinstance(nb, Mapping) else None
    if isinstance(metadata, Mapping) and metadata:
        carried.append(("the notebook's metadata", {"metadata": cells.data_size(metadata)}))
    carried = [(where, kinds) for where, kinds in carried if kinds]
    total = sum(sum(kinds.values()) for _, kinds in carried)
    if total <= NOTEBOOK_PAYLOAD_LIMIT:
        return reports
    detailed = []
    for where, kinds in carried:
        if sum(kinds.values()) >= PAYLOAD_DETAIL:
            ranked = sorted(kinds.items(), key=lambda item: -item[1])
            largest = [item for item in ranked[:3] if item[1] >= 1024] or ranked[:1]
            what = ", ".join(f"{kind} ({_kib(amount)} KiB)" for kind, amount in largest)
            detailed.append(_carries(sum(kinds.values()), f"{where}: {what}"))
    return reports + (detailed or [_carries(total, f"the outputs, attachments and metadata of "
                                                   f"{len(carried)} cells")])


def _carries(size: int, place: str) -> str:
    return f"carries {_kib(size)} KiB of data in {place}; trained weights could be hidden in it"


def _kib(size: int) -> str:
    return f"{max(1, round(size / 1024)):,}"


def _kind(value: str | bytes) -> str:
    """What a string literal looks like it holds: ``hex digits``, ``base64-like text``..."""
    if isinstance(value, bytes):
        return "bytes"
    sample = re.sub(r"\s", "", value[:4096])
    for kind, pattern in (("hex digits", r"[0-9a-fA-F]+"), ("base64-like text", r"[A-Za-z0-9+/=_-]+"),
                          ("numbers", r"[-+\d.,eE\[\]()]+")):
        if sample and re.fullmatch(pattern, sample):
            return kind
    return "text"
