"""Data a notebook carries, where a person looks for trained weights: the limits, in bytes, the
literals and comments of a cell (:class:`Data`), and the notebook's totals beside its code."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping

from autograder.batch.review import cells

#: One string (or number) literal larger than this is reported.
LITERAL_LIMIT = 16 * 1024
#: Literals and comments of one cell larger than this in all are reported (a cell can read its
#: own source, and its comments).
CELL_DATA_LIMIT = 32 * 1024
#: More numbers than this written as literals in one cell are reported.
CELL_NUMBERS_LIMIT = 2_000
#: Literals and comments of all the student's cells over this (weights spread over cells).
NOTEBOOK_LITERALS_LIMIT = 128 * 1024
#: Non-image outputs, attachments, metadata, raw and markdown text over this, in one notebook.
NOTEBOOK_PAYLOAD_LIMIT = 1024 * 1024
#: When a notebook is over :data:`NOTEBOOK_PAYLOAD_LIMIT`, the cells carrying at least this.
PAYLOAD_DETAIL = 16 * 1024


class Data:
    """The literals and comments of one cell (its magics' code included)."""

    def __init__(self) -> None:
        self.largest = (0, 0, "")  # bytes, line, what
        self.bytes = self.numbers = self.first_number = 0

    def constant(self, line: int, value: object, width: int) -> None:
        """Count ``value``, written on ``line`` in ``width`` characters (a number by its width,
        a string by its bytes, other constants not at all)."""
        if isinstance(value, (int, float, complex)) and not isinstance(value, bool):
            self.numbers, self.first_number = self.numbers + 1, self.first_number or line
            self.string(line, width, "a number literal")
        elif isinstance(value, (str, bytes)):
            self.string(line, len(value) if isinstance(value, bytes) else cells.data_size(value),
                        f"a string literal of {_kind(value)}")

    def string(self, line: int, size: int, what: str) -> None:
        """Count ``size`` bytes of text on ``line``: a literal, or a magic's text."""
        self.bytes += size
        self.largest = max(self.largest, (size, line, what), key=lambda t: t[0])

    def comments_of(self, python: str) -> None:
        try:
            self.bytes += sum(len(token.string) for token in tokenize.generate_tokens(
                io.StringIO(python).readline) if token.type == tokenize.COMMENT)
        except (tokenize.TokenError, SyntaxError):
            pass

    def reasons(self, where: str) -> list[tuple[int, str]]:
        """(line, reason) if the cell carries more data than its limits, naming ``where`` it is."""
        size, line, what = self.largest
        if size > LITERAL_LIMIT:
            return [(line, _carries(self.bytes, f"{where}: {what} on line {line}"))]
        if self.numbers > CELL_NUMBERS_LIMIT:
            found = f"{where}: {self.numbers:,} numbers written as literals, from line {self.first_number}"
            return [(self.first_number, _carries(self.bytes, found))]
        if self.bytes > CELL_DATA_LIMIT:
            return [(1, _carries(self.bytes, f"{where}: its literals and comments"))]
        return []


def notebook_reports(nb: Mapping, literals: Mapping[str, int]) -> list[str]:
    """Reports of the data a notebook carries in all: ``literals`` maps each of the student's
    cells (as reports name it) to the bytes of its literals and comments; what the notebook
    carries beside its code (outputs, attachments, metadata) is read from ``nb``."""
    reports = []
    if (total := sum(literals.values())) > NOTEBOOK_LITERALS_LIMIT:
        carrying = [where for where, size in literals.items() if size >= 1024]
        named = ", ".join(carrying[:5]) + (", ..." if len(carrying) > 5 else "")
        reports.append(_carries(total, f"the literals and comments of {len(carrying)} cells ({named})"))
    carried = [(cells.where(i, cells.grade_id(c)), cells.payload(c)) for i, c in enumerate(cells.of(nb))
               if isinstance(c, Mapping)]
    if isinstance(metadata := nb.get("metadata") if isinstance(nb, Mapping) else None, Mapping) and metadata:
        carried.append(("the notebook's metadata", {"metadata": cells.data_size(metadata)}))
    carried = [(where, kinds) for where, kinds in carried if kinds]
    if (total := sum(sum(kinds.values()) for _, kinds in carried)) <= NOTEBOOK_PAYLOAD_LIMIT:
        return reports
    detailed = []
    for where, kinds in carried:
        if sum(kinds.values()) >= PAYLOAD_DETAIL:
            ranked = sorted(kinds.items(), key=lambda item: -item[1])
            largest = [item for item in ranked[:3] if item[1] >= 1024] or ranked[:1]
            what = ", ".join(f"{kind} ({_kib(amount)} KiB)" for kind, amount in largest)
            detailed.append(_carries(sum(kinds.values()), f"{where}: {what}"))
    everything = f"the outputs, attachments and metadata of {len(carried)} cells"
    return reports + (detailed or [_carries(total, everything)])


def _carries(size: int, place: str) -> str:
    return f"carries {_kib(size)} KiB of data in {place}; trained weights could be hidden in it"


def _kib(size: int) -> str:
    return f"{max(1, round(size / 1024)):,}"


def _kind(value: str | bytes) -> str:
    """What a string literal looks like it holds: ``hex digits``, ``base64-like text``..."""
    if isinstance(value, bytes):
        return "bytes"
    sample = re.sub(r"\s", "", value[:4096])
    kinds = (("hex digits", r"[0-9a-fA-F]+"), ("base64-like text", r"[A-Za-z0-9+/=_-]+"),
             ("numbers", r"[-+\d.,eE\[\]()]+"))
    return next((kind for kind, pattern in kinds if sample and re.fullmatch(pattern, sample)), "text")
