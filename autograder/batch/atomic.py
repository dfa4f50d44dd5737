"""Write a file so that a reader sees either the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text goes as UTF-8, newlines untouched) to ``path`` through a temporary
    file in the same folder and ``os.replace``; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # A new name in the same folder, opened exclusively; unlike mkstemp's private 0600 file it
    # gets the permissions the umask gives, as a plain write would.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "xb") as handle:
            handle.write(payload)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
