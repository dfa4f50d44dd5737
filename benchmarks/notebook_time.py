"""The kernel's time in an executed notebook's own cells, for the benchmarks."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def own_seconds(notebook: Path) -> float:
    """Seconds the kernel spent in the executed notebook's cells that are not tests (nbgrader's
    grade cells that are not answers), from nbclient's timing in each cell's metadata."""
    total = 0.0
    for cell in json.loads(notebook.read_text())["cells"]:
        meta = cell.get("metadata", {})
        grading = meta.get("nbgrader", {})
        if grading.get("grade") and not grading.get("solution"):
            continue
        timing = meta.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            total += (datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    return total
