"""nbgrader's Execute, with every way a run can go wrong written into the notebook it grades.

* **Output limit**: every message the kernel sends while a cell runs counts (streams, displays,
  display updates, comm messages, with their binary buffers); past ``output_limit`` bytes (whole
  notebook) they are dropped as they arrive, so a cell printing a gigabyte cannot exhaust the
  grader's memory; the cell where it happened says so.
* **Dead kernel**: when the kernel dies (``os._exit``, a kill, out of memory), the cell it died in
  gets an error saying so, and every later code cell an error saying it did not run; the test
  cells among them score 0 and the notebook is still graded, instead of the whole autograde
  failing.
* **Timeout**: a cell stopped at the per-cell limit gets an error that says which limit; one
  that ignores the interrupt too is treated as a dead kernel.
* **Progress**: before each cell, its index and grade id go to ``progress_file``, so that a run
  killed from outside (the whole-notebook limit) can still say where it was.
"""

from __future__ import annotations

import json
import os
from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

#: Error names the kit writes into cells; the runner reads them back to explain a grade.
DEAD_KERNEL = "KernelDied"
NOT_RUN = "CellNotRun"
OUTPUT_CUT = "OutputLimit"


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as nbclient would write it, with a one-line traceback: how the kit writes
    into a cell what went wrong (here, and for a test cell the judge ran,
    :mod:`autograder.judge.verdict`)."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """Execute with an output limit, dead-kernel handling and a progress file."""

    output_limit = Integer(50 * 2**20, help="Bytes of output kept from the whole notebook.").tag(config=True)
    progress_file = Unicode("", help="Where to write the index of the cell being run.").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._output_bytes = 0
        self._cut_cells: set[int] = set()
        self._dead_in: int | None = None
        self._why = ""

    def _progress(self, cell: NotebookNode, cell_index: int) -> None:
        if not self.progress_file:
            return
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        with open(self.progress_file, "w", encoding="utf-8") as handle:
            json.dump({"cell": cell_index, "grade_id": grade_id}, handle)
            handle.flush()
            os.fsync(handle.fileno())

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int,
                                 execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        if cell.cell_type != "code":
            return cell
        if self._dead_in is not None:
            cell.outputs = [error_output(NOT_RUN, f"not run: {self._why} in cell {self._dead_in + 1}.")]
            return cell
        self._progress(cell, cell_index)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self._dead_in, self._why = cell_index, "the kernel died"
            cell.outputs.append(error_output(
                DEAD_KERNEL, "the kernel died while running this cell: it exited (os._exit, a "
                             "kill) or ran out of memory."))
            return cell
        except CellTimeoutError:
            # The interrupt did not stop it either: nothing more can run in this kernel.
            self._dead_in, self._why = cell_index, "the kernel could not be stopped"
            cell.outputs.append(error_output(
                "CellTimeoutError", f"this cell ran longer than {self.timeout} s and could not be "
                                    f"stopped; the cells after it did not run."))
            return cell

    # nbclient binds the synchronous wrapper to its own coroutine; bind it to this one.
    execute_cell = run_sync(async_execute_cell)

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        if msg.get("msg_type") in _NOT_OUTPUT:
            return super().process_message(msg, cell, cell_index)
        self._output_bytes += message_size(msg)
        if self._output_bytes > self.output_limit:
            if cell_index not in self._cut_cells:
                self._cut_cells.add(cell_index)
                cell.outputs.append(error_output(
                    OUTPUT_CUT, f"output cut: the notebook printed more than "
                                f"{self.output_limit / 2**20:g} MiB; the rest was dropped."))
            return None
        return super().process_message(msg, cell, cell_index)


#: Messages that carry no output: the kernel's state and the echo of the code it runs.
_NOT_OUTPUT = frozenset({"status", "execute_input"})


def message_size(msg: dict) -> int:
    """Bytes a kernel message adds to the notebook or to the grader's memory: its content as
    JSON and its binary buffers."""
    buffers = sum(len(b) for b in msg.get("buffers") or ())
    return len(json.dumps(msg.get("content", {}), default=str)) + buffers
