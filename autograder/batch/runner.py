"""Run one job: nbgrader's autograde in a private course folder, on whichever worker gets it.

The worker writes nothing shared. It lays out a throw-away course (the course's
``nbgrader_config.py``, a gradebook holding only the assignment's definition, the submission under
``submitted/``), runs the real ``nbgrader autograde`` there in its own process, with the course's
pipeline less the steps that write grades (:mod:`autograder.batch.pipeline`), and returns the
executed notebook. The coordinator records the grades from that notebook
(:mod:`autograder.batch.record`), so a worker on another machine never touches the gradebook.
"""

from __future__ import annotations

import dataclasses
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
from datetime import datetime
from pathlib import Path

import nbformat

from autograder import data, settings
from autograder.authoring import student_kit
from autograder.authoring.nbgrader_run import nbgrader_env
from autograder.batch import capacity, sandbox
from autograder.batch.jobs import Job, RunResult
from autograder.batch.review import locked, problems, scan
from autograder.budget import BUDGET_ENV
from autograder.judge import withheld

#: Process groups of the nbgrader runs in progress in this process, for :func:`stop_all`.
_RUNNING: set[int] = set()
#: How many times :func:`stop_all` ran; a job that began before the last time starts nothing.
_STOPS = 0
_RUNNING_LOCK = threading.Lock()


def stop_all() -> int:
    """Kill every ``nbgrader autograde`` run (and its kernel) this process started and that is
    still going; return how many there were. A job already under way that has not started its
    run yet starts none (runs are started and registered under the same lock)."""
    global _STOPS
    with _RUNNING_LOCK:
        _STOPS += 1
        groups = list(_RUNNING)
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(groups)


#: Runs first in the child, a fresh interpreter, then becomes nbgrader: it asks Linux to kill it
#: (PR_SET_PDEATHSIG, SIGKILL) when the grader's thread that started it dies, gives up if the grader
#: is already gone, and keeps the signal across ``exec``. Nothing runs between fork and exec in the
#: grader's own process, which has threads (loading a library there can deadlock). The child gets
#: its own session and process group (``start_new_session``), so a cancelled job takes its kernel
#: along.
_DIE_WITH_PARENT = ("import ctypes, os, sys; ctypes.CDLL(None, use_errno=True).prctl(1, 9); "
                    "os.getppid() == int(sys.argv[1]) or os._exit(70); "
                    "os.execv(sys.argv[2], sys.argv[2:])")


def _die_with_parent(command: list[str]) -> list[str]:
    """``command``, started through :data:`_DIE_WITH_PARENT`."""
    return [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


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
    for name, content in job.course_files.items():  # the course's own checks, for the judge
        target = (root / name).resolve()
        if not target.is_relative_to(root.resolve()):
            raise ValueError(f"course checks: file name {name!r} leaves the course folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    folder = root / "submitted" / job.student / job.assignment
    for name, content in job.files.items():
        target = (folder / name).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise ValueError(f"{job.student}/{job.assignment}: file name {name!r} leaves the "
                             f"submission folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


#: Variables of the grader's environment that the nbgrader process gets; the rest (database
#: passwords, tokens) stay out of reach of the submission even where there is no sandbox.
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CNNKIT_DATA_DIR", "CNNKIT_CELL_TIMEOUT",
            "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "XLA_FLAGS", "TF_FORCE_GPU_ALLOW_GROWTH")

def run_environment(job: Job, root: Path) -> dict[str, str]:
    """The environment of the ``nbgrader autograde`` process (and of an unsandboxed kernel)."""
    base = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    extra = {BUDGET_ENV: job.budget, settings.CACHE.name: str(settings.cache_dir()),
             "JUPYTER_PATH": str(root / "jupyter"),
             "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "JUPYTER_CONFIG_DIR": str(root / "jupyter"),
             "JUPYTER_DATA_DIR": str(root / "jupyter"), "HOME": str(root / "home"),
             "PYTHONNOUSERSITE": "1"}
    if job.threads > 0:
        # TensorFlow reads these at start; several kernels on one machine then share its cores
        # instead of each starting a thread per core (the figure: :func:`started_threads`).
        extra.update(TF_NUM_INTRAOP_THREADS=str(job.threads), TF_NUM_INTEROP_THREADS="2",
                     OMP_NUM_THREADS=str(job.threads))
    env = nbgrader_env(extra)
    return {name: value for name, value in env.items() if name in base or name in extra
            or name == "PATH" or name == "TF_CPP_MIN_LOG_LEVEL"}


def private_config(job: Job, root: Path, *, truth: Path | None = None,
                   kernel_data: Path | None = None, stats: Path | None = None) -> str:
    """The course's configuration, its autograde pipeline without the steps that write grades
    (the coordinator runs those when it records the run: :mod:`autograder.batch.pipeline`), and
    the job's own settings: the judge's budget (the accuracy gate measuring on ``truth``, the
    MNIST folder with the real labels, while the kernel reads ``kernel_data``; its timings in
    ``stats``), the per-cell limit, the output limit and progress file, and a kernel that talks
    over Unix sockets in the job's folder."""
    runtime = root / "runtime"
    per_job = {
        "JudgedExecute.budget": job.budget,
        **({"JudgedExecute.truth_data": str(truth)} if truth is not None else {}),
        **({"JudgedExecute.kernel_data": str(kernel_data)} if kernel_data is not None else {}),
        **({"JudgedExecute.stats_file": str(stats)} if stats is not None else {}),
        "Execute.timeout": int(job.limits.cell_seconds),
        "Execute.error_on_timeout": {
            "ename": "CellTimeoutError",
            "evalue": f"this cell ran longer than {job.limits.cell_seconds:g} s and was stopped.",
            "traceback": [f"CellTimeoutError: this cell ran longer than {job.limits.cell_seconds:g} s "
                          f"and was stopped."]},
        "GuardedExecute.output_limit": job.limits.output,
        "GuardedExecute.progress_file": str(root / "progress.json"),
        "KernelManager.transport": "ipc",
        "KernelManager.ip": sandbox.kernel_ip(runtime),
        "KernelManager.connection_file": str(runtime / "kernel.json"),
    }
    lines = ["", "# Added by the kit's runner for this job.",
             "from autograder.batch.pipeline import worker_steps",
             "c.Autograde.autograde_preprocessors = worker_steps(c)"]
    lines += [f"c.{name} = {value!r}" for name, value in per_job.items()]
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


def started_threads(job: Job) -> int:
    """TensorFlow threads for ``job`` starting now in this process: every core when no other
    run of this process is going, else the cores shared among the runs going and this one, at
    most ``job.threads`` when it sets a bound (:func:`autograder.batch.capacity.share`). Called
    under ``_RUNNING_LOCK``, where runs are started and registered."""
    return capacity.share(len(_RUNNING) + 1, most=job.threads)


def _kernel_view(kit_dir: Path | None, data_dir: Path | None,
                 course_files: dict[str, bytes] | None = None) -> tuple[Path, Path, Path | None]:
    """What the kernel is given, made once per worker in the grader's cache: the student kit's
    modules (with the course's own checks beside them), and the MNIST folder with the test
    labels withheld; and the grader's own MNIST folder (None when there is none: an assignment
    without MNIST still grades)."""
    cache = settings.cache_dir()
    kit_dir = kit_dir or student_kit.modules_dir(cache, course_files or {})
    truth: Path | None
    try:
        truth = data.find_mnist_dir()
        data.verify(truth)
    except data.DataError:
        truth = None
    if data_dir is None:
        data_dir = withheld.kernel_view(truth, cache) if truth is not None else _empty(cache)
    return kit_dir, data_dir, truth


def _empty(cache: Path) -> Path:
    folder = cache / "no-data"
    folder.mkdir(mode=0o755, exist_ok=True)
    return folder


def review(job: Job) -> tuple[scan.Scan, list[str], list[str]]:
    """The submitted notebook read once, as nbgrader will run it, for a person: the scan (what
    its own code does that could change a grade but its merit), and the flags and notes about
    the assignment's locked cells and nbgrader metadata. Nothing here changes the grade: the
    course's ``SettleMetadata`` puts the gradebook's cells back when nbgrader runs the notebook
    (:mod:`autograder.judge.gradebook_cells`)."""
    try:
        submitted = json.loads(job.files.get(f"{job.assignment}.ipynb", b"{}").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        submitted = {}
    submitted = scan.as_run(submitted)  # the notebook nbgrader runs (an older format upgraded)
    scanned = scan.scan_submission(submitted, job.locked)
    flags, notes = list(scanned.reports), []
    for found_flags, found_notes in (locked.locked_problems(submitted, job.locked),
                                     locked.metadata_changes(submitted, job.layout)):
        flags += found_flags
        notes += found_notes
    return scanned, flags, notes


def execute(job: Job, workdir: str | None = None, *, kit_dir: Path | None = None,
            data_dir: Path | None = None) -> RunResult:
    """Grade ``job`` in a fresh private course folder and return the executed notebook.

    The kernel sees ``kit_dir`` (a folder holding the student package ``autograder/``; default:
    the student kit of this installation) and ``data_dir`` (the MNIST files it may see; default:
    this installation's, the test labels withheld); the judge measures on the real ones. Never
    raises for a problem of the submission: the reason comes back in the result.
    """
    with _RUNNING_LOCK:
        stops = _STOPS
    worker = f"{socket.gethostname()}:{os.getpid()}"
    root = Path(tempfile.mkdtemp(prefix="cnnkit-job-", dir=workdir))
    start = time.monotonic()
    isolation = sandbox.probe()
    groups: tuple[str, ...] = ()
    try:
        kit_dir, data_dir, truth = _kernel_view(kit_dir, data_dir, job.course_files)
        folder = lay_out(job, root, private_config(job, root, truth=truth, kernel_data=data_dir,
                                                   stats=root / "judge.json"))
        notes: list[str] = []
        notebook_name = f"{job.assignment}.ipynb"
        for extra in sorted(set(job.files) - {notebook_name, "timestamp.txt"}):
            (folder / extra).unlink(missing_ok=True)
            notes.append(f"file {extra}: not given to the notebook (only {notebook_name} is graded).")
        scanned, flags, found_notes = review(job)
        notes += found_notes
        for name in ("runtime", "home", "jupyter"):
            (root / name).mkdir(exist_ok=True)
        groups = sandbox.make_groups(isolation, root.name, job.limits)
        work = root / "autograded" / job.student / job.assignment
        sandbox.write_kernelspec(root / "jupyter", sandbox.settings_for(
            job.limits, root / "runtime", isolation, groups, kit_dir=kit_dir, data_dir=data_dir))
        command = [sys.executable, "-m", "autograder.batch.nbgrader_main", "autograde", job.assignment,
                   "--student", job.student, "--force"]
        try:
            with _RUNNING_LOCK:
                if stops != _STOPS:
                    return RunResult(job.key, None, time.monotonic() - start, 0.0, worker,
                                     "the batch was stopped before this job started.", retry=True)
                # The cores are shared out now, among the runs going as this one starts.
                threads = started_threads(job)
                process = subprocess.Popen(_die_with_parent(command), cwd=root,
                                           env=run_environment(dataclasses.replace(job, threads=threads),
                                                               root), text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True,
                                           errors="replace")
                _RUNNING.add(process.pid)
            tail = _Tail(process.stdout)
            try:
                process.wait(timeout=job.limits.notebook_seconds)
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process.pid)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            sandbox.remove_groups(groups)
            process.wait()
            where = _progress(root)
            return RunResult(job.key, None, time.monotonic() - start, 0.0, worker,
                             f"the notebook ran longer than {job.limits.notebook_seconds:g} s in all "
                             f"and was stopped{where}.", tail.result(), flags=tuple(flags),
                             notes=tuple(notes), threads=threads)
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
                             output, retry=True, threads=threads)
        executed = work / notebook_name
        if process.returncode != 0 or not executed.is_file():
            return RunResult(job.key, None, seconds, 0.0, worker,
                             f"nbgrader autograde exited with status {process.returncode}: "
                             f"{_last_error(output)}", output, flags=tuple(flags), notes=tuple(notes),
                             threads=threads)
        executed_bytes = executed.read_bytes()
        nb = nbformat.reads(executed_bytes.decode("utf-8"), 4)
        notes += problems.cell_problems(nb)
        flags += scan.unreadable_cells_that_ran(nb, scanned.unparsed)
        if not isolation.available:
            notes.append("ran without isolation: " + isolation.problem + ".")
        return RunResult(job.key, executed_bytes, seconds, cell_seconds(nb), worker, "", output,
                         flags=tuple(flags), notes=tuple(notes), judge_seconds=_judge_seconds(root),
                         threads=threads)
    finally:
        sandbox.remove_groups(groups)
        shutil.rmtree(root, ignore_errors=True)


def _judge_seconds(root: Path) -> float:
    """Seconds the judge spent in the notebook's tests (its stats file), 0 when unknown."""
    try:
        return float(json.loads((root / "judge.json").read_text(encoding="utf-8"))["judge_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


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
