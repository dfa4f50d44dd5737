"""Whether kernels can be shut in on this machine, and the grader's warning when they cannot."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import KW_ONLY, dataclass

from autograder.batch.sandbox import cgroups
from autograder.batch.sandbox.command import KERNEL_GID, KERNEL_UID, namespaces


@dataclass(frozen=True)
class Isolation:
    """Whether kernels can be shut in here, and how."""

    bwrap: str | None
    """bubblewrap's path, when it runs here."""
    pids_root: str | None = None
    """Where per-job ``pids`` control groups are made (None: processes are not limited)."""
    _: KW_ONLY
    memory_root: str | None = None
    """Where per-job ``memory`` control groups are made (None: memory is limited per process
    only, by RLIMIT_DATA)."""
    setpriv: str | None = None
    """setpriv's path, which a root grader's kernel needs to leave root."""
    problem: str = ""
    """Why there is no isolation (empty when there is)."""

    @property
    def available(self) -> bool:
        """Whether kernels run in bubblewrap."""
        return self.bwrap is not None


def _trial(bwrap: str, setpriv: str | None) -> list[str]:
    """A sandbox like a kernel's (same namespaces, user, kinds of mounts) that runs ``true``."""
    privileged = setpriv is not None
    switch = [setpriv, f"--reuid={KERNEL_UID}", f"--regid={KERNEL_GID}", "--clear-groups",
              "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"] if setpriv is not None else []
    return [bwrap, "--die-with-parent", *namespaces(privileged), "--ro-bind", "/", "/", "--proc",
            "/proc", "--dev", "/dev", "--perms", "1777", "--size", "1048576", "--tmpfs", "/tmp",
            "--remount-ro", "/", "--", *switch, "true"]


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Find bubblewrap (and setpriv for a root grader) and try them once the way kernels will
    run; find where the pids and memory control groups can be made."""
    made = functools.partial(Isolation, pids_root=cgroups.find_parent("pids"),
                             memory_root=cgroups.find_parent("memory"))
    found = shutil.which("bwrap")
    if found is None:
        return made(None, problem="bubblewrap (bwrap) is not installed")
    setpriv = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return made(None, problem="the grader runs as root and setpriv "
                             "(util-linux) is not installed, so a kernel could not leave root")
    try:
        trial = subprocess.run(_trial(found, setpriv), capture_output=True, text=True, timeout=30,
                               check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return made(None, problem=f"bubblewrap could not start: {exc}")
    if trial.returncode != 0:
        return made(None, problem=f"bubblewrap failed here: "
                         f"{trial.stderr.strip()[:300]} (user namespaces may be disabled, or "
                         f"bubblewrap is older than 0.7, which has no --size)")
    return made(found, setpriv=setpriv)


def warning(isolation: Isolation) -> str:
    """The loud message for a grader without isolation, or without a control group (empty
    when everything is in place)."""
    if not isolation.available:
        return (f"WARNING: submissions are NOT isolated: {isolation.problem}. Their code can read "
                f"and change anything you can (the hidden tests in source/, the gradebook, other "
                f"students' work) and reach the network. Install bubblewrap (Debian/Ubuntu: `sudo "
                f"apt-get install bubblewrap`) and run again. Grading goes on with time, memory, "
                f"file size and output limits only.")
    missing = []
    if isolation.pids_root is None:
        missing.append("no process limit: this machine lets the grader make no pids control "
                       "group, so a fork bomb is stopped only by the time limit")
    if isolation.memory_root is None:
        missing.append("no memory limit per job: this machine lets the grader make no memory "
                       "control group, so memory is limited per process only (RLIMIT_DATA), and "
                       "a job of many processes, shared memory or memory-backed files can use "
                       "more in all")
    if not missing:
        return ""
    return ("WARNING: " + "; ".join(missing) + ". Run the grader as root, or delegate it a "
            "control group with these controllers.")
