"""Isolation of each submission's kernel, without Docker: bubblewrap plus resource limits.

nbgrader and nbclient run as the grader, outside; only the kernel, where the student's code runs,
is shut in. Its kernelspec (written per job into a private ``JUPYTER_PATH``) starts::

    python -m autograder.batch.sandbox <settings.json> <connection file>

which, as the grader still, copies the connection file where the kernel can read it, sets the
resource limits, joins the job's process-count control group, and executes bubblewrap with a
kernel inside that:

* has no network (its own network namespace; it talks to nbclient over Unix sockets),
* sees its own processes only, and a fresh ``/dev``, ``/proc`` and session,
* reads the system's programs and libraries, the Python environment, the kit's package and the
  MNIST files, nothing else: not the course folder (``source/``, ``solutions/``, the gradebook),
  not the exchange, not other students' files, not the grader's home,
* writes only its working folder and ``/tmp``, both memory-backed and of a fixed size,
* runs as an unprivileged user of its own user namespace, with no capabilities,
* gets a short, fixed environment: none of the grader's variables (tokens, passwords) reach it.

The number of processes and threads is held by a ``pids`` control group per job where the
machine lets the grader make one (root, cgroup v1 or v2), else it is not limited (said once).

Where bubblewrap is missing or cannot run here, :func:`probe` says so and why, the grader is told
once, loudly, and the kernel runs with the limits that still apply (time, memory, file size,
output), as the grader.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.batch.limits import Limits

#: Where per-job ``pids`` control groups are made, first that exists wins (cgroup v1, then v2).
PIDS_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))

#: The grader's variables a kernel gets (by name); everything else is left out.
PASSED_ENV = ("CNNKIT_BUDGET", "TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "NBGRADER_EXECUTION",
              "NBGRADER_VALIDATING", "CUDA_VISIBLE_DEVICES")


@dataclass(frozen=True)
class Isolation:
    """Whether kernels can be shut in here, and how."""

    bwrap: str | None
    """bubblewrap's path, when it runs here."""
    pids_root: str | None
    """Where per-job ``pids`` control groups can be made (None: processes are not limited)."""
    problem: str = ""
    """Why there is no isolation (empty when there is)."""

    @property
    def available(self) -> bool:
        """Whether kernels run in bubblewrap."""
        return self.bwrap is not None


def _pids_root() -> str | None:
    for root in PIDS_ROOTS:
        controllers = root / "cgroup.controllers"
        if root.name == "pids" or (controllers.exists() and "pids" in controllers.read_text()):
            trial = root / f"cnnkit-probe-{os.getpid()}"
            try:
                trial.mkdir()
                ok = (trial / "pids.max").exists()
                trial.rmdir()
            except OSError:
                continue
            if ok:
                return str(root)
    return None


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Find bubblewrap and try it once the way kernels will run; find the pids control groups."""
    pids = _pids_root()
    found = shutil.which("bwrap")
    if found is None:
        return Isolation(None, pids, "bubblewrap (bwrap) is not installed")
    command = [found, "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000",
               "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        trial = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation(None, pids, f"bubblewrap could not start: {exc}")
    if trial.returncode != 0:
        return Isolation(None, pids, f"bubblewrap failed here: {trial.stderr.strip()[:300]} "
                                     f"(user namespaces may be disabled)")
    return Isolation(found, pids)


def make_pids_group(isolation: Isolation, name: str, limit: int) -> str | None:
    """Make the control group ``name`` holding at most ``limit`` processes; None if impossible."""
    if isolation.pids_root is None:
        return None
    group = Path(isolation.pids_root) / name
    try:
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(limit))
    except OSError:
        return None
    return str(group)


def remove_pids_group(group: str | None) -> None:
    """Kill what is left in ``group`` and remove it."""
    if group is None:
        return
    path = Path(group)
    for _ in range(20):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    try:
        path.rmdir()
    except OSError:
        pass


def warning(isolation: Isolation) -> str:
    """The loud message for a grader without isolation (empty when there is isolation)."""
    if isolation.available:
        if isolation.pids_root is None:
            return ("WARNING: no process limit: this machine lets the grader make no pids control "
                    "group (run as root, or delegate one), so a fork bomb is stopped only by the "
                    "time limit.")
        return ""
    return (f"WARNING: submissions are NOT isolated: {isolation.problem}. Their code can read "
            f"and change anything you can (the hidden tests in source/, the gradebook, other "
            f"students' work) and reach the network. Install bubblewrap (Debian/Ubuntu: `sudo "
            f"apt-get install bubblewrap`) and run again. Grading goes on with time, memory, file "
            f"size and output limits only.")


def kit_paths() -> list[Path]:
    """What a kernel must read: the Python installation, the environment, the kit, the data."""
    import autograder
    from autograder import data

    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(autograder.__file__).resolve().parent]
    try:
        paths.append(data.find_mnist_dir().resolve())
    except data.DataError:
        pass
    return paths


def settings_for(limits: Limits, work: Path, runtime: Path, isolation: Isolation,
                 pids_group: str | None) -> dict:
    """The launcher's settings for one job, as JSON-ready data."""
    return {"bwrap": isolation.bwrap, "pids_group": pids_group,
            "work": str(work), "runtime": str(runtime), "read": [str(p) for p in kit_paths()],
            "python": sys.executable, "memory": limits.memory, "file_size": limits.file_size,
            "disk": limits.disk}


def write_kernelspec(jupyter_dir: Path, settings: dict) -> Path:
    """Write a ``python3`` kernelspec under ``jupyter_dir/kernels`` that starts the sandboxed
    kernel; return the settings file."""
    spec_dir = jupyter_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    settings_file = jupyter_dir / "sandbox.json"
    settings_file.write_text(json.dumps(settings), encoding="utf-8")
    spec = {"argv": [sys.executable, "-I", "-m", "autograder.batch.sandbox", str(settings_file),
                     "{connection_file}"],
            "display_name": "Python 3 (sandboxed)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return settings_file


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def bwrap_argv(settings: dict, connection_file: str) -> list[str]:
    """The bubblewrap command line that runs the kernel."""
    work, runtime = settings["work"], settings["runtime"]
    args = [settings["bwrap"], "--die-with-parent", "--unshare-all", "--unshare-user", "--uid", "1000",
            "--gid", "1000", "--new-session", "--clearenv", *_system_binds()]
    # /tmp first: what is bound later may live under it (a virtual environment in /tmp).
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(settings["disk"]), "--tmpfs", "/tmp"]
    for path in settings["read"]:
        args += ["--ro-bind", path, path]
    args += ["--size", str(settings["disk"]), "--tmpfs", work,
             "--bind", runtime, runtime, "--dir", "/tmp/home", "--chdir", work]
    env = {"PATH": f"{Path(settings['python']).parent}:/usr/bin:/bin", "HOME": "/tmp/home",
           "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp/home/.matplotlib", "PYTHONNOUSERSITE": "1",
           "CNNKIT_SANDBOXED": "1"}
    from autograder import data
    try:
        env[data.DATA_DIR_ENV] = str(data.find_mnist_dir().resolve())
    except data.DataError:
        pass
    env.update({name: os.environ[name] for name in PASSED_ENV if name in os.environ})
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args + ["--", settings["python"], "-m", "ipykernel_launcher", "-f", connection_file]


def _limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))


def launch(settings_file: str, connection_file: str) -> None:
    """Start the kernel: limits, control group, bubblewrap (this process becomes the sandbox)."""
    settings = json.loads(Path(settings_file).read_text(encoding="utf-8"))
    _limit(resource.RLIMIT_DATA, settings["memory"])
    _limit(resource.RLIMIT_FSIZE, settings["file_size"])
    _limit(resource.RLIMIT_CORE, 0)
    if settings["pids_group"]:
        (Path(settings["pids_group"]) / "cgroup.procs").write_text(str(os.getpid()))
    if settings["bwrap"]:
        argv = bwrap_argv(settings, connection_file)
    else:
        argv = [settings["python"], "-m", "ipykernel_launcher", "-f", connection_file]
    os.execv(argv[0], argv)


if __name__ == "__main__":  # the kernelspec's command
    launch(sys.argv[1], sys.argv[2])
