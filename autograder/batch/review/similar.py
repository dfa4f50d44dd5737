"""Notebooks of different students that are the same work: byte for byte, or near enough that
one was made from the other (run again, reformatted, comments reworded, cells moved, a line or
two changed).

A notebook's *fingerprint* is the set of its k-grams: runs of :data:`K` tokens of its cells'
sources (code tokens as Python reads them, the words of comments, strings and markdown), each
hashed. Outputs, metadata and execution counts are not part of it, nor is layout. What every
student is given or expected to write is taken out: the k-grams of the released notebook and of
the instructor's solution (the tutorial's own code), and those that more than
:func:`common_limit` students of the class share (a hint passed round, an idiom of the course).
What remains is each student's own material. Two students are flagged when they share at least
:data:`MIN_SHARED` k-grams of it and that is at least :data:`MIN_OVERLAP` of the smaller one's.

Nothing here decides a grade: the flag asks a person to compare the two notebooks. Students who
all follow the tutorial share nothing of their own, and are not flagged however alike their
answers are; a copy made by renaming every variable is not found (the graded names cannot be
renamed, so that leaves little to rename).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tokenize
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from autograder.batch.review import cells

#: How a caller names its notebooks (a student, a submission id).
Key = TypeVar("Key", bound=Hashable)
#: Token types kept as they are read.
_KEPT = (tokenize.NAME, tokenize.NUMBER, tokenize.OP)
#: Tokens per k-gram.
K = 5
#: Own k-grams two notebooks must share to be flagged.
MIN_SHARED = 20
#: The share of the smaller notebook's own k-grams that must be the other's too.
MIN_OVERLAP = 0.6
#: A k-gram shared by more students than this (and more than half of the class) is common.
COMMON_FLOOR = 5
#: How many others a flag names.
NAMED = 5

_WORD = re.compile(r"\w+")
_MAGIC = re.compile(r"^[ \t]*[%!].*$", re.MULTILINE)


class Fingerprint(NamedTuple):
    """What one notebook is made of, for comparison."""

    sha256: str
    """SHA-256 of the notebook's bytes."""
    grams: frozenset[int]
    """Hashes of its k-grams (see the module's docstring)."""


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def code_tokens(text: str) -> list[str]:
    """The tokens of a code cell: names, numbers and operators as Python reads them, the
    lowercased words of comments and strings; layout, blank lines and IPython magics ignored.
    Source that Python cannot read is split into words and symbols.

    >>> code_tokens("x = a/255.  # Scale it")
    ['x', '=', 'a', '/', '255.', 'scale', 'it']
    """
    text = _MAGIC.sub("", text)
    found: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.COMMENT, tokenize.STRING):
                found += _words(token.string.lstrip("#"))
            elif token.type in _KEPT or (
                token.type == tokenize.ERRORTOKEN and not token.string.isspace()
            ):
                found.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        found = re.findall(r"\w+|[^\w\s]", text)
    return found


def tokens(nb: object) -> list[list[str]]:
    """Per cell of a notebook (parsed JSON, possibly malformed), its tokens: code cells by
    :func:`code_tokens`, markdown and raw cells by their lowercased words."""
    found = []
    for cell in cells.of(nb):
        if not isinstance(cell, Mapping):
            continue
        text = cells.source(cell)
        found.append(code_tokens(text) if cell.get("cell_type") == "code" else _words(text))
    return found


def grams(nb: object) -> set[int]:
    """The hashed k-grams of a notebook's cells (k-grams do not cross cells); a cell shorter
    than :data:`K` tokens counts as one k-gram."""
    found = set()
    for cell_tokens in tokens(nb):
        if not cell_tokens:
            continue
        for at in range(max(1, len(cell_tokens) - K + 1)):
            gram = "\x1f".join(cell_tokens[at:at + K]).encode("utf-8", "surrogatepass")
            found.add(int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "big"))
    return found


def _parsed(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def fingerprint(data: bytes, given: frozenset[int] = frozenset()) -> Fingerprint:
    """The fingerprint of a notebook's bytes, without the k-grams in ``given`` (see
    :func:`given_grams`). A file that is not JSON has no k-grams, only its digest."""
    return Fingerprint(hashlib.sha256(data).hexdigest(), frozenset(grams(_parsed(data)) - given))


def given_grams(notebooks: Iterable[bytes]) -> frozenset[int]:
    """The k-grams of the notebooks every student is given or expected to write (the released
    notebook, the solution)."""
    found: set[int] = set()
    for data in notebooks:
        found |= grams(_parsed(data))
    return frozenset(found)


def course_given(course_root: Path, assignment: str, notebook: str) -> tuple[frozenset[int], str | None]:
    """What every student of ``assignment`` in the nbgrader course folder ``course_root`` is
    given: the k-grams of its released and its source notebook named ``notebook`` (see
    :func:`given_grams`), and the SHA-256 of the released one (None when it is not released)."""
    found = [course_root / folder / assignment / notebook for folder in ("release", "source")]
    present = [path.read_bytes() for path in found if path.is_file()]
    released = hashlib.sha256(found[0].read_bytes()).hexdigest() if found[0].is_file() else None
    return given_grams(present), released


def common_limit(students: int) -> int:
    """The most students a k-gram may be shared by and still be someone's own: half the class,
    and never fewer than :data:`COMMON_FLOOR`.

    >>> common_limit(3), common_limit(40)
    (5, 20)
    """
    return max(COMMON_FLOOR, students // 2)


class Match(NamedTuple, Generic[Key]):
    """Another student's notebook that is the same work."""

    other: Key
    """Its key (as the caller named it)."""
    identical: bool
    """Byte for byte the same file."""
    overlap: float
    """The share of the smaller notebook's own k-grams that both hold (1.0 when identical)."""


def matches(prints: Mapping[Key, Fingerprint], owner: Mapping[Key, str],
            released: str | None = None, *, only: Key | None = None
            ) -> dict[Key, list[Match[Key]]]:
    """For each notebook of one assignment (``prints``, one per key), the other students'
    notebooks that are the same work, most alike first. ``owner`` gives each key's student (a
    student's own notebooks are never compared); ``released``: SHA-256 of the released notebook,
    which anyone may hand in untouched; ``only``: compare that key's notebook alone with the
    others (the answer then holds that key only)."""
    limit = common_limit(len(set(owner.values())))
    shared_by: Counter = Counter()
    for found_grams in _per_student(prints, owner).values():
        shared_by.update(found_grams)
    own = {key: frozenset(g for g in p.grams if shared_by[g] <= limit) for key, p in prints.items()}
    keys = list(prints)
    pairs = ([(only, b) for b in keys if b != only] if only is not None else
             [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]])
    found: dict[Key, list[Match[Key]]] = {key: [] for key in ([only] if only is not None else keys)}
    for a, b in pairs:
        if owner[a] == owner[b]:
            continue
        match = _compare(prints[a], prints[b], own[a], own[b], released)
        if match is not None:
            found[a].append(Match(b, *match))
            if b in found:
                found[b].append(Match(a, *match))
    for listed in found.values():
        listed.sort(key=lambda m: (not m.identical, -m.overlap))
    return found


def _per_student(prints: Mapping[Key, Fingerprint], owner: Mapping[Key, str]) -> dict:
    by_student: dict[str, set[int]] = {}
    for key, p in prints.items():
        by_student.setdefault(owner[key], set()).update(p.grams)
    return by_student


def _compare(a: Fingerprint, b: Fingerprint, own_a: frozenset[int], own_b: frozenset[int],
             released: str | None) -> tuple[bool, float] | None:
    if a.sha256 == b.sha256:
        return None if a.sha256 == released else (True, 1.0)
    shared = len(own_a & own_b)
    smaller = min(len(own_a), len(own_b))
    if shared >= MIN_SHARED and shared >= MIN_OVERLAP * smaller:
        return False, shared / smaller
    return None


def flag(found: Sequence[Match[Key]], name: Mapping[Key, str]) -> str | None:
    """The review flag of a notebook's matches (None without any); ``name`` gives each key as
    the flag names it (``bob`` or ``#12 (bob)``)."""
    if not found:
        return None
    identical = [m for m in found if m.identical]
    near = [m for m in found if not m.identical]
    parts = []
    if identical:
        parts.append("byte for byte the same notebook as " + _named(identical, name))
    if near:
        parts.append("nearly the same code and text as " + ", ".join(
            f"{name[m.other]} ({m.overlap:.0%} of its own material)" for m in near[:NAMED])
            + (f" and {len(near) - NAMED} more" if len(near) > NAMED else ""))
    return ("similar to other students' work: " + "; ".join(parts)
            + ". Compare the notebooks before the grade counts.")


def _named(found: Sequence[Match[Key]], name: Mapping[Key, str]) -> str:
    listed = ", ".join(name[m.other] for m in found[:NAMED])
    return listed + (f" and {len(found) - NAMED} more" if len(found) > NAMED else "")
