"""Run one job: nbgrader's autograde in a private course folder, on whichever worker gets it.

The worker writes nothing shared. It lays out a throw-away course (the course's
``nbgrader_config.py``, a gradebook holding only the assignment's definition, the submission under
``submitted/``), runs the real ``nbgrader autograde`` there in its own process, and returns the
executed notebook. The coordinator records the grades from that notebook
(:mod:`autograder.batch.record`), so a worker on another machine never touches the gradebook.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from autograder.batch.jobs import Job
from autograder.budget import BUDGET_ENV
from autograder.nbgrader_run import nbgrader_env


#: Process groups of the nbgrader runs in progress in this process, for :func:`stop_all`.
_RUNNING: set[int] = set()
_RUNNING_LOCK = threading.Lock()


def stop_all() -> int:
    """Kill every ``nbgrader autograde`` run (and its kernel) this process started and that is
    still going; return how many there were."""
    with _RUNNING_LOCK:
        groups = list(_RUNNING)
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(groups)


@dataclass(frozen=True)
class RunResult:
    """What a worker hands back for one job."""

    key: str
    """The job key."""
    notebook: bytes | None
    """The executed notebook (``autograded/<student>/<assignment>/<assignment>.ipynb``), or None
    when nbgrader produced none."""
    seconds: float
    """Wall time of the ``nbgrader autograde`` process."""
    cell_seconds: float
    """Time spent executing cells, from nbclient's timing records (0 when unknown)."""
    worker: str
    """Host and process that ran it."""
    reason: str = ""
    """Why no notebook came back; empty on success."""
    log_tail: str = ""
    """The last lines nbgrader printed."""
    retry: bool = False
    """True when the failure says nothing about the submission (the run was killed from
    outside): such a result is not kept, and the next run tries again."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to kill this process when the thread that started it dies, and give it its own
    process group so that a cancelled job takes its kernel along."""
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def cell_seconds(nb: nbformat.NotebookNode) -> float:
    """Seconds the kernel spent executing the notebook's cells (nbclient's ``metadata.execution``)."""
    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            total += (datetime.fromisoformat(end.replace("Z", "+00:00"))
                      - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    return total


def lay_out(job: Job, root: Path) -> Path:
    """Write the private course for ``job`` under ``root``; return the submission folder."""
    (root / "nbgrader_config.py").write_text(job.config, encoding="utf-8")
    (root / "gradebook.db").write_bytes(job.template)
    folder = root / "submitted" / job.student / job.assignment
    for name, data in job.files.items():
        target = (folder / name).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise ValueError(f"{job.student}/{job.assignment}: file name {name!r} leaves the "
                             f"submission folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def run_environment(job: Job) -> dict[str, str]:
    """The environment of the ``nbgrader autograde`` process and so of the kernel."""
    extra = {BUDGET_ENV: job.budget}
    if job.threads > 0:
        # TensorFlow reads these at start; several kernels on one machine then share its cores
        # instead of each starting a thread per core.
        extra.update(TF_NUM_INTRAOP_THREADS=str(job.threads), TF_NUM_INTEROP_THREADS="2",
                     OMP_NUM_THREADS=str(job.threads))
    return nbgrader_env(extra)


def execute(job: Job, workdir: str | None = None) -> RunResult:
    """Grade ``job`` in a fresh private course folder and return the executed notebook.

    Never raises for a problem of the submission: the reason comes back in the result.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    root = Path(tempfile.mkdtemp(prefix="cnnkit-job-", dir=workdir))
    start = time.monotonic()
    try:
        lay_out(job, root)
        command = [sys.executable, "-m", "nbgrader", "autograde", job.assignment,
                   "--student", job.student, "--force"]
        try:
            process = subprocess.Popen(command, cwd=root, env=run_environment(job), text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            with _RUNNING_LOCK:
                _RUNNING.add(process.pid)
            try:
                output, _ = process.communicate(timeout=job.timeout)
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process.pid)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return RunResult(job.key, None, time.monotonic() - start, 0.0, worker,
                             f"the notebook ran longer than {job.timeout:g} s and was stopped.",
                             _tail(output))
        except BaseException:
            # Interrupted (or the coordinator is going away): take the kernel along.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, UnboundLocalError):
                pass
            raise
        seconds = time.monotonic() - start
        if process.returncode < 0:
            return RunResult(job.key, None, seconds, 0.0, worker,
                             f"the grading process was killed by signal {-process.returncode}.",
                             _tail(output), retry=True)
        executed = root / "autograded" / job.student / job.assignment / f"{job.assignment}.ipynb"
        if process.returncode != 0 or not executed.is_file():
            return RunResult(job.key, None, seconds, 0.0, worker,
                             f"nbgrader autograde exited with status {process.returncode}: "
                             f"{_last_error(output)}", _tail(output))
        data = executed.read_bytes()
        return RunResult(job.key, data, seconds, cell_seconds(nbformat.reads(data.decode("utf-8"), 4)),
                         worker, "", _tail(output))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _tail(output: str, lines: int = 20) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def _last_error(output: str) -> str:
    """The most telling line of a failed nbgrader run."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "[ERROR]" in line or "Error" in line:
            return line.split("]", 1)[-1].strip() if line.startswith("[") else line
    return lines[-1] if lines else "no output"
