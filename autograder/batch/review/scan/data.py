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
#: A code cell larger than this is reported when nothing above explains it (one that does not
#: parse, larger than :data:`LITERAL_LIMIT`: its literals could not be counted).
CELL_SOURCE_LIMIT = 64 * 1024
#: Literals and comments of all the student's code cells over this, in one notebook (weights
#: spread over cells each under the limits above).
NOTEBOOK_LITERALS_LIMIT = 128 * 1024
#: Non-image outputs, attachments, metadata, raw and markdown text over this, in one notebook.
NOTEBOOK_PAYLOAD_LIMIT = 1024 * 1024
#: When a notebook is over :data:`NOTEBOOK_PAYLOAD_LIMIT`, the cells carrying at least this.
PAYLOAD_DETAIL = 16 * 1024


class Data:
    """Data literals in one cell (its magics' code included), to find trained weights."""

    def __init__(self) -> None:
        self.largest: tuple[int, int, str] = (0, 0, "")  # size, line, what
        self.strings = 0
        self.numbers = 0
        self.number_bytes = 0
        self.first_number = 0
        self.comments = 0
        self.source = 0
        self.unread = False

    def total(self) -> int:
        """Bytes of string and number literals and comments in all."""
        return self.strings + self.number_bytes + self.comments

    def literal(self, line: int, size: int, what: str) -> None:
        """Keep ``what`` (on ``line``, of ``size`` bytes) if it is the largest literal so far."""
        if size > self.largest[0]:
            self.largest = (size, line, what)

    def string(self, line: int, size: int, what: str) -> None:
        """Count text of ``size`` bytes on ``line``: a string literal, or a magic's text."""
        self.strings += size
        self.literal(line, size, what)

    def constant(self, line: int, value: object, width: int) -> None:
        """Count the constant ``value`` written on ``line`` in ``width`` characters (numbers are
        counted by how they are written, strings by their bytes; other constants not at all)."""
        if isinstance(value, (str, bytes)):
            size = len(value) if isinstance(value, bytes) else cells.data_size(value)
            self.string(line, size, f"a string literal of {_kind(value)}")
        elif isinstance(value, (int, float, complex)) and not isinstance(value, bool):
            self.numbers += 1
            self.number_bytes += width
            self.first_number = self.first_number or line
            self.literal(line, width, "a number literal")

    def comments_of(self, python: str) -> None:
        """Count the comments of ``python`` (what does not tokenize is left uncounted)."""
        try:
            for token in tokenize.generate_tokens(io.StringIO(python).readline):
                if token.type == tokenize.COMMENT:
                    self.comments += len(token.string)
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
    """Reports of the data a notebook carries in all, over the limits of one notebook:
    ``literals`` maps each of the student's cells read (as reports name it) to the bytes of its
    literals and comments (:meth:`Data.total`); the rest is read from ``nb``."""
    return _literals_report(literals) + _payload_reports(nb)


def _literals_report(literals: Mapping[str, int]) -> list[str]:
    """The report of the literals and comments of the student's cells, if they are over
    :data:`NOTEBOOK_LITERALS_LIMIT` in all."""
    total = sum(literals.values())
    if total <= NOTEBOOK_LITERALS_LIMIT:
        return []
    carrying = [where for where, size in literals.items() if size >= 1024]
    named = ", ".join(carrying[:5]) + (", ..." if len(carrying) > 5 else "")
    return [_carries(total, f"the literals and comments of {len(carrying)} cells ({named})")]


def _payload_reports(nb: Mapping) -> list[str]:
    """Reports of the data a notebook carries beside its code (outputs, attachments, metadata,
    raw and markdown text), when there is more than :data:`NOTEBOOK_PAYLOAD_LIMIT` of it."""
    carried = _payloads(nb)
    total = sum(sum(kinds.values()) for _, kinds in carried)
    if total <= NOTEBOOK_PAYLOAD_LIMIT:
        return []
    reports = []
    for where, kinds in carried:
        size = sum(kinds.values())
        if size >= PAYLOAD_DETAIL:
            ranked = sorted(kinds.items(), key=lambda item: -item[1])
            largest = [item for item in ranked[:3] if item[1] >= 1024] or ranked[:1]
            what = ", ".join(f"{kind} ({_kib(amount)} KiB)" for kind, amount in largest)
            reports.append(_carries(size, f"{where}: {what}"))
    if not reports:
        reports.append(_carries(total, f"the outputs, attachments and metadata of {len(carried)} cells"))
    return reports


def _payloads(nb: Mapping) -> list[tuple[str, dict[str, int]]]:
    """(where, bytes by kind) for each cell that carries data beside its code, and for the
    notebook's own metadata, as :func:`cells.payload` measures it."""
    carried: list[tuple[str, dict[str, int]]] = []
    for index, cell in enumerate(cells.of(nb)):
        if isinstance(cell, Mapping):
            kinds = cells.payload(cell)
            if kinds:
                carried.append((cells.where(index, cells.grade_id(cell)), kinds))
    metadata = nb.get("metadata") if isinstance(nb, Mapping) else None
    if isinstance(metadata, Mapping) and metadata:
        carried.append(("the notebook's metadata", {"metadata": cells.data_size(metadata)}))
    return carried


def _carries(size: int, place: str) -> str:
    """The report of ``size`` bytes of data in ``place``."""
    return f"carries {_kib(size)} KiB of data in {place}; trained weights could be hidden in it"


def _kib(size: int) -> str:
    return f"{max(1, round(size / 1024)):,}"


def _kind(value: str | bytes) -> str:
    """What a string literal looks like it holds: ``hex digits``, ``base64-like text``..."""
    if isinstance(value, bytes):
        return "bytes"
    sample = re.sub(r"\s", "", value[:4096])
    if sample and re.fullmatch(r"[0-9a-fA-F]+", sample):
        return "hex digits"
    if sample and re.fullmatch(r"[A-Za-z0-9+/=_-]+", sample):
        return "base64-like text"
    if sample and re.fullmatch(r"[-+\d.,eE\[\]()]+", sample):
        return "numbers"
    return "text"
