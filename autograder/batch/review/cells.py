"""Reading cells of a submitted notebook as plain JSON data, which may be malformed."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*$",
                     re.MULTILINE | re.DOTALL)

#: What nbgrader looks for, anywhere in a line, to remove hidden tests from the release.
HIDDEN_TEST_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

#: An image inlined in markdown (``![x](data:image/png;base64,...)``): a picture, not data.
_INLINE_IMAGE = re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=\s]*")


def of(nb: Any) -> list:
    """The notebook's cells as stored, in order: an empty list if it has none or is not a
    notebook. The entries are not checked (any may be malformed)."""
    found = nb.get("cells") if isinstance(nb, Mapping) else None
    return found if isinstance(found, list) else []


def where(index: int, grade_id: str | None) -> str:
    """``cell N`` or ``cell N (grade id)`` for the cell at ``index`` (from 0), as reports name it."""
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def grade_id(cell: Mapping) -> str | None:
    """The cell's nbgrader grade id, or None."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    found = nbgrader.get("grade_id") if isinstance(nbgrader, Mapping) else None
    return found if isinstance(found, str) else None


def has_nbgrader_metadata(cell: Mapping) -> bool:
    """Whether the cell carries any nbgrader metadata at all."""
    metadata = cell.get("metadata")
    return isinstance(metadata, Mapping) and bool(metadata.get("nbgrader"))


def source(cell: Mapping) -> str:
    """The cell's source as one string (nbformat allows a list of lines)."""
    text = cell.get("source", "")
    if isinstance(text, list):
        return "".join(part if isinstance(part, str) else str(part) for part in text)
    return text if isinstance(text, str) else str(text)


def normalised(text: str) -> str:
    """Text as compared between notebooks: blank lines and trailing spaces ignored, nothing
    else removed (hidden tests stay)."""
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def visible(text: str) -> str:
    """A locked cell as the student's release shows it, for comparison: hidden tests removed,
    blank lines and trailing spaces ignored."""
    return normalised(_HIDDEN.sub("", text))


def hidden_test_lines(text: str) -> list[int]:
    """Line numbers (from 1) of the lines that nbgrader would read as hidden-test markers."""
    return [number for number, line in enumerate(text.splitlines(), 1)
            if any(marker in line for marker in HIDDEN_TEST_MARKERS)]


def data_size(value: Any) -> int:
    """Bytes of a JSON value as a notebook stores it (strings as UTF-8)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return sum(data_size(part) for part in value)
    return len(json.dumps(value, default=str))


def payload(cell: Mapping) -> dict[str, int]:
    """Bytes of data the cell carries beside its code, by kind (``"output text/plain"``,
    ``"attachment application/octet-stream"``, ``"metadata"``, ``"raw text"``), images left out.

    Code that reads its own notebook file can load any of it, so a large amount is a way to
    bring trained weights in. Images (outputs, attachments, inlined in markdown) are not counted.
    """
    found: Counter[str] = Counter()
    kind = cell.get("cell_type")
    if kind == "raw":
        found["raw text"] += data_size(source(cell))
    elif kind == "markdown":
        found["markdown text"] += data_size(_INLINE_IMAGE.sub("", source(cell)))
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, Mapping):
            continue
        if output.get("output_type") == "stream":
            found["output stream"] += data_size(output.get("text", ""))
        elif output.get("output_type") == "error":
            found["error output"] += data_size([str(output.get(k, "")) for k in ("ename", "evalue")]
                                           + [str(line) for line in output.get("traceback") or []])
        data = output.get("data")
        for mime, value in data.items() if isinstance(data, Mapping) else ():
            if not str(mime).startswith("image/"):
                found[f"output {mime}"] += data_size(value)
        if output.get("metadata"):
            found["output metadata"] += data_size(output["metadata"])
    attachments = cell.get("attachments")
    for bundle in attachments.values() if isinstance(attachments, Mapping) else ():
        for mime, value in bundle.items() if isinstance(bundle, Mapping) else ():
            if not str(mime).startswith("image/"):
                found[f"attachment {mime}"] += data_size(value)
    metadata = cell.get("metadata")
    if isinstance(metadata, Mapping):
        rest = {key: value for key, value in metadata.items() if key != "nbgrader"}
        if rest:
            found["metadata"] += data_size(rest)
    return {name: size for name, size in found.items() if size}
