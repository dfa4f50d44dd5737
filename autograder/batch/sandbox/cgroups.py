"""Per-job control groups: how many processes a kernel may run, and how much memory the whole job
may hold (every process of the sandbox together, files in its memory-backed folders included).

A job's group is made under the grader's own group of the controller where the grader may write
there (so a limit already on the grader still holds), else at the root of the hierarchy. cgroup
v1 (a hierarchy per controller, ``/sys/fs/cgroup/<controller>``) and v2 (one hierarchy,
``/sys/fs/cgroup``) are both read. The launcher moves itself into the job's groups before it
starts bubblewrap, so that every process of the sandbox is counted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: Where cgroup hierarchies are mounted.
CGROUP_FS = Path("/sys/fs/cgroup")

#: The file that holds each controller's limit, by controller, cgroup v1 first then v2.
LIMIT_FILES = {"pids": ("pids.max",), "memory": ("memory.limit_in_bytes", "memory.max")}

#: Swap is no way around the memory limit: memory plus swap is held to the same limit (v1), no
#: swap at all (v2). Either file may be missing (no swap accounting); that is no error.
SWAP_FILES = {"memory.limit_in_bytes": ("memory.memsw.limit_in_bytes", None),
              "memory.max": ("memory.swap.max", 0)}


def _own_groups() -> dict[str, str]:
    """The grader's group in each hierarchy by controller name ('' for the v2 hierarchy)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    own = {}
    for line in lines:
        _, names, path = line.split(":", 2)
        for name in names.split(","):
            own[name] = path
    return own


def _candidates(controller: str) -> list[Path]:
    """Folders under which a job's group of ``controller`` may be made, best first."""
    own = _own_groups()
    v1 = CGROUP_FS / controller
    if (v1 / "cgroup.procs").exists() and not (v1 / "cgroup.controllers").exists():
        return [v1 / own.get(controller, "/").lstrip("/"), v1]
    listed = CGROUP_FS / "cgroup.controllers"
    if listed.exists() and controller in listed.read_text().split():
        return [CGROUP_FS / own.get("", "/").lstrip("/"), CGROUP_FS]
    return []


def find_parent(controller: str) -> str | None:
    """Where this process can make groups of ``controller`` that limit it (None: nowhere)."""
    for parent in _candidates(controller):
        trial = parent / f"cnnkit-probe-{os.getpid()}"
        try:
            trial.mkdir()
        except OSError:
            continue
        try:
            if any((trial / name).exists() for name in LIMIT_FILES[controller]):
                return str(parent)
        finally:
            try:
                trial.rmdir()
            except OSError:
                pass
    return None


def make_group(parent: str | None, controller: str, name: str, limit: int) -> str | None:
    """Make the group ``name`` of ``controller`` under ``parent``, limited to ``limit`` (processes
    or bytes); return its folder, or None when it cannot be made here."""
    if parent is None:
        return None
    group = Path(parent) / name
    try:
        group.mkdir(exist_ok=True)
        limit_file = next(n for n in LIMIT_FILES[controller] if (group / n).exists())
        (group / limit_file).write_text(str(limit))
    except (OSError, StopIteration):
        remove_group(str(group))
        return None
    swap_file, swap_value = SWAP_FILES.get(limit_file, (None, None))
    if swap_file and (group / swap_file).exists():
        try:
            (group / swap_file).write_text(str(limit if swap_value is None else swap_value))
        except OSError:
            pass
    return str(group)


def join(group: str, pid: int) -> None:
    """Move process ``pid`` into ``group`` (its children then start there)."""
    (Path(group) / "cgroup.procs").write_text(str(pid))


def remove_group(group: str | None) -> None:
    """Kill what is left in ``group`` and remove it (nothing when it is already gone)."""
    if group is None:
        return
    path = Path(group)
    for _ in range(50):
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
