"""nbgrader's Execute with a judge: the kernel runs the student's cells, the judge runs the tests.

:class:`JudgedExecute` replaces ``Execute`` in ``Autograde.autograde_preprocessors`` (the
course's ``nbgrader_config.py``, which each ``cnnkit grade`` job runs too).
It walks the notebook as nbgrader does, with the guarded execution of
:class:`~autograder.judge.guarded_execute.GuardedExecute` (output limit, dead kernel, progress),
and changes two things:

* **Where each cell's identity comes from.** Every cell's nbgrader metadata has been set from the
  gradebook by its grade id (:class:`~autograder.judge.gradebook_cells.SettleMetadata`, the first of
  nbgrader's sanitizing steps): a cell whose grade id the gradebook does not know is the student's
  own code. A test is the gradebook's test of that grade id, and nbgrader's own grading
  (``SaveAutoGrades``) reads metadata the student could not choose.
* **Where a test runs.** A test cell's code, as the gradebook holds it (hidden tests included),
  never reaches the kernel. At the test's place in the notebook the judge runs it here
  (:func:`~autograder.judge.verdict.run_test`), asking the kernel for observations of the
  student's variables, and writes the verdict into the cell's outputs: nothing when it passed,
  the check's message when it failed. The kernel's IPython history never sees a test.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from traitlets import Unicode

from autograder import budget as budgets
from autograder import data, settings
from autograder.authoring import course_checks
from autograder.judge import verdict
from autograder.judge.channel import INSTALL, Channel
from autograder.judge.gate import Gate
from autograder.judge.gradebook_cells import GradebookCells
from autograder.judge.guarded_execute import GuardedExecute, error_output
from autograder.judge.namespace import KernelData, judge_namespace


class JudgedExecute(GuardedExecute):
    """Execute the student's cells in the kernel; judge the test cells outside it."""

    budget = Unicode("", help="The training budget the judge holds trained models to (tutorial, "
                              "gpu, cpu, smoke). Empty: CNNKIT_BUDGET of the grader's environment, "
                              "else cpu.").tag(config=True)
    truth_data = Unicode("", help="The grader's MNIST folder, with the real test labels, on which "
                                  "the accuracy gate measures. Empty: the kit's own.").tag(config=True)
    kernel_data = Unicode("", help="The MNIST folder as the student's kernel sees it (under cnnkit "
                                   "grade, a copy with the test labels withheld). Empty: the same "
                                   "as truth_data.").tag(config=True)
    stats_file = Unicode("", help="Where to write, as JSON, how long the judge took (seconds in "
                                  "tests, requests to the kernel); empty: nowhere.").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._book: GradebookCells | None = None
        self._namespace: dict[str, Any] = {}
        self._channel: Channel | None = None
        self._installed = False
        self._judge_seconds = 0.0
        self._tests = 0
        self._per_test: dict[str, float] = {}

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None) -> Any:
        self._book = GradebookCells(resources)
        name = self.budget or settings.BUDGET.get() or "cpu"
        if name not in budgets.BUDGETS:
            raise budgets.BudgetError(f"JudgedExecute.budget: expected one of "
                                      f"{', '.join(budgets.BUDGETS)}, got {name!r}.")
        truth = Path(self.truth_data) if self.truth_data else data.find_mnist_dir()
        kernel_view = Path(self.kernel_data) if self.kernel_data else truth
        self._namespace = judge_namespace(gate=Gate(budgets.BUDGETS[name], truth),
                                         kernel_data=KernelData(kernel_view, settings.cache_dir()))
        self._namespace.update(self._course_checks())
        self._channel = None
        self._installed = False
        self._judge_seconds = 0.0
        self._tests = 0
        self._per_test = {}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._write_stats()

    async def _install(self) -> None:
        """Register the kernel's request handler before the notebook's first cell runs, so that
        nothing the student's code does afterwards can intercept the judge's requests by assigning
        a name (:func:`autograder.kernel_answers.install`)."""
        self._installed = True
        msg_id = self.kc.execute(INSTALL, silent=True, store_history=False, allow_stdin=False)
        reply = await self.async_wait_for_reply(msg_id)
        status = ((reply or {}).get("content") or {}).get("status")
        if status != "ok":
            self.log.warning("The kernel did not install the grading request handler (%s); every "
                             "test will find no answer.", status)

    def _course_checks(self) -> dict[str, Any]:
        """The course's own checks module under its name (``c.CNNKit.course_checks``), imported
        from the grader's copy of the course; nothing when the course names none."""
        name = str(self.config.get("CNNKit", {}).get("course_checks") or "")
        if not name:
            return {}
        root = Path(str(self.config.CourseDirectory.get("root") or ".")).resolve()
        return {name: course_checks.load(root, name)}

    def _write_stats(self) -> None:
        if not self.stats_file:
            return
        stats = {"judge_seconds": round(self._judge_seconds, 4), "tests": self._tests,
                 "requests": self._channel.requests if self._channel else 0,
                 "request_seconds": round(self._channel.seconds, 4) if self._channel else 0.0,
                 "per_test": self._per_test}
        Path(self.stats_file).write_text(json.dumps(stats), encoding="utf-8")

    def _test_source(self, cell: NotebookNode) -> str | None:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or self._book is None:
            return None
        return self._book.tests.get(grade_id)

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int,
                                 execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        if not self._installed:
            await self._install()
        source = self._test_source(cell)
        if source is None:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._dead_in is not None:
            cell.outputs = [error_output("CellNotRun", f"not run: {self._why} in cell {self._dead_in + 1}.")]
            return cell
        self._progress(cell, cell_index)
        if self._channel is None:
            self._channel = Channel(self.kc, alive=self.kc.is_alive, timeout=float(self.timeout or 900),
                                    loop=asyncio.get_running_loop())
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        start = time.monotonic()
        found = await asyncio.to_thread(verdict.run_test, source, f"<test {grade_id}>",
                                        self._namespace, self._channel)
        self._judge_seconds += time.monotonic() - start
        self._per_test[grade_id] = round(time.monotonic() - start, 4)
        self._tests += 1
        cell.outputs = found.outputs
        cell.execution_count = None
        if found.kernel_died:
            self._dead_in, self._why = cell_index, "the kernel died"
        self.nb["cells"][cell_index] = cell
        return cell

    # nbclient binds the synchronous wrapper to its own coroutine; bind it to this one.
    execute_cell = run_sync(async_execute_cell)
