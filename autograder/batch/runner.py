"""Run one job: nbgrader's autograde in a private course folder, on whichever worker gets it.

The worker writes nothing shared. It lays out a throw-away course (the course's
``nbgrader_config.py``, a gradebook holding only the assignment's definition, the submission under
``submitted/``), runs the real ``nbgrader autograde`` there in its own process, and returns the
executed notebook. The coordinator records the grades from that notebook
(:mod:`autograder.batch.record`), so a worker on another machine never touches the gradebook.
"""

from __future__ import annotations

import ctypes
import json
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

from autograder.batch import sandbox
from autograder.batch.review import locked, problems, scan
from autograder.batch.jobs import Job
from autograder.budget import BUDGET_ENV
from autograder.authoring.nbgrader_run import nbgrader_env


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
    flags: tuple[str, ...] = ()
    """Why the submission needs a person to look at it (code that could change a grade by other
    means than its merit, an edited locked cell); empty when it does not."""
    notes: tuple[str, ...] = ()
    """What went wrong in the run, one sentence each (a timeout in a cell, a dead kernel, a
    restored test cell, an ignored file)."""


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


def lay_out(job: Job, root: Path, config: str | None = None) -> Path:
    """Write the private course for ``job`` under ``root`` (with ``config``, else the course's
    configuration); return the submission folder."""
    (root / "nbgrader_config.py").write_text(job.config if config is None else config, encoding="utf-8")
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


#: Variables of the grader's environment that the nbgrader process gets; the rest (database
#: passwords, tokens) stay out of reach of the submission even where there is no sandbox.
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CNNKIT_DATA_DIR", "CNNKIT_CELL_TIMEOUT",
            "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "XLA_FLAGS", "TF_FORCE_GPU_ALLOW_GROWTH")

def run_environment(job: Job, root: Path) -> dict[str, str]:
    """The environment of the ``nbgrader autograde`` process (and of an unsandboxed kernel)."""
    base = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    extra = {BUDGET_ENV: job.budget, "JUPYTER_PATH": str(root / "jupyter"),
             "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "JUPYTER_CONFIG_DIR": str(root / "jupyter"),
             "JUPYTER_DATA_DIR": str(root / "jupyter"), "HOME": str(root / "home"),
             "PYTHONNOUSERSITE": "1"}
    if job.threads > 0:
        # TensorFlow reads these at start; several kernels on one machine then share its cores
        # instead of each starting a thread per core.
        extra.update(TF_NUM_INTRAOP_THREADS=str(job.threads), TF_NUM_INTEROP_THREADS="2",
                     OMP_NUM_THREADS=str(job.threads))
    env = nbgrader_env(extra)
    return {name: value for name, value in env.items() if name in base or name in extra
            or name == "PATH" or name == "TF_CPP_MIN_LOG_LEVEL"}


def private_config(job: Job, root: Path) -> str:
    """The course's configuration plus the runner's settings: guarded execution, the per-cell
    limit, and a kernel that talks over Unix sockets in the job's folder."""
    runtime = root / "runtime"
    settings = {
        "Autograde.autograde_preprocessors": "[GuardedExecute, IgnorePattern, ClearMetadataPreprocessor, "
                                             "LimitOutput, SaveAutoGrades, AssignLatePenalties, "
                                             "CheckCellMetadata]",
        "Execute.timeout": repr(int(job.limits.cell_seconds)),
        "Execute.error_on_timeout": repr({
            "ename": "CellTimeoutError",
            "evalue": f"this cell ran longer than {job.limits.cell_seconds:g} s and was stopped.",
            "traceback": [f"CellTimeoutError: this cell ran longer than {job.limits.cell_seconds:g} s "
                          f"and was stopped."]}),
        "GuardedExecute.output_limit": repr(job.limits.output),
        "GuardedExecute.progress_file": repr(str(root / "progress.json")),
        "KernelManager.transport": repr("ipc"),
        "KernelManager.ip": repr(str(runtime / "kernel")),
        "KernelManager.connection_file": repr(str(runtime / "kernel.json")),
    }
    lines = ["", "# Added by the kit's runner for this job.",
             "from nbconvert.preprocessors import ClearMetadataPreprocessor",
             "from nbgrader.preprocessors import (IgnorePattern, LimitOutput, SaveAutoGrades,",
             "                                    AssignLatePenalties, CheckCellMetadata)",
             "from autograder.judge.guarded_execute import GuardedExecute"]
    lines += [f"c.{name} = {value}" for name, value in settings.items()]
    return job.config + "\n".join(lines) + "\n"


class _Tail:
    """Reads a stream to its end in a thread, keeping only its last ``limit`` characters."""

    def __init__(self, stream, limit: int = 64 * 1024) -> None:
        self.text, self.limit, self.stream = "", limit, stream
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.stream.read(8192), ""):
            self.text = (self.text + chunk)[-self.limit:]

    def result(self) -> str:
        self.thread.join(timeout=10)
        return self.text


def execute(job: Job, workdir: str | None = None) -> RunResult:
    """Grade ``job`` in a fresh private course folder and return the executed notebook.

    Never raises for a problem of the submission: the reason comes back in the result.
    """
    worker = f"{socket.gethostname()}:{os.getpid()}"
    root = Path(tempfile.mkdtemp(prefix="cnnkit-job-", dir=workdir))
    start = time.monotonic()
    isolation = sandbox.probe()
    group = None
    try:
        folder = lay_out(job, root, private_config(job, root))
        notes: list[str] = []
        notebook_name = f"{job.assignment}.ipynb"
        for extra in sorted(set(job.files) - {notebook_name, "timestamp.txt"}):
            (folder / extra).unlink(missing_ok=True)
            notes.append(f"file {extra}: not given to the notebook (only {notebook_name} is graded).")
        try:
            submitted = json.loads(job.files.get(notebook_name, b"{}").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            submitted = {}
        flags = scan.scan_notebook(submitted, job.locked)
        locked_flags, locked_notes = locked.locked_problems(submitted, job.locked)
        flags += locked_flags
        notes += locked_notes
        if locked.repair(submitted, job):
            (folder / notebook_name).write_text(json.dumps(submitted), encoding="utf-8")
        for name in ("runtime", "home", "jupyter"):
            (root / name).mkdir(exist_ok=True)
        group = sandbox.make_pids_group(isolation, root.name, job.limits.processes)
        work = root / "autograded" / job.student / job.assignment
        sandbox.write_kernelspec(root / "jupyter", sandbox.settings_for(
            job.limits, work, root / "runtime", isolation, group))
        command = [sys.executable, "-m", "nbgrader", "autograde", job.assignment,
                   "--student", job.student, "--force"]
        try:
            process = subprocess.Popen(command, cwd=root, env=run_environment(job, root), text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
                                       errors="replace")
            tail = _Tail(process.stdout)
            with _RUNNING_LOCK:
                _RUNNING.add(process.pid)
            try:
                process.wait(timeout=job.limits.notebook_seconds)
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process.pid)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            sandbox.remove_pids_group(group)
            process.wait()
            where = _progress(root)
            return RunResult(job.key, None, time.monotonic() - start, 0.0, worker,
                             f"the notebook ran longer than {job.limits.notebook_seconds:g} s in all "
                             f"and was stopped{where}.", tail.result(), flags=tuple(flags),
                             notes=tuple(notes))
        except BaseException:
            # Interrupted (or the coordinator is going away): take the kernel along.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, UnboundLocalError):
                pass
            raise
        output = tail.result()
        seconds = time.monotonic() - start
        if process.returncode < 0:
            return RunResult(job.key, None, seconds, 0.0, worker,
                             f"the grading process was killed by signal {-process.returncode}.",
                             output, retry=True)
        executed = work / notebook_name
        if process.returncode != 0 or not executed.is_file():
            return RunResult(job.key, None, seconds, 0.0, worker,
                             f"nbgrader autograde exited with status {process.returncode}: "
                             f"{_last_error(output)}", output, flags=tuple(flags), notes=tuple(notes))
        data = executed.read_bytes()
        nb = nbformat.reads(data.decode("utf-8"), 4)
        notes += problems.cell_problems(nb)
        if not isolation.available:
            notes.append("ran without isolation: " + isolation.problem + ".")
        return RunResult(job.key, data, seconds, cell_seconds(nb), worker, "", output,
                         flags=tuple(flags), notes=tuple(notes))
    finally:
        sandbox.remove_pids_group(group)
        shutil.rmtree(root, ignore_errors=True)


def _progress(root: Path) -> str:
    """`` in cell N (grade id)`` from the progress file, or nothing."""
    try:
        progress = json.loads((root / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    grade_id = f" ({progress['grade_id']})" if progress.get("grade_id") else ""
    return f" in cell {progress['cell'] + 1}{grade_id}"


def _last_error(output: str) -> str:
    """The most telling line of a failed nbgrader run."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "[ERROR]" in line or "Error" in line:
            return line.split("]", 1)[-1].strip() if line.startswith("[") else line
    return lines[-1] if lines else "no output"
