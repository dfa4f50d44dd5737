"""A job's sandbox settings and kernelspec, written by the runner before nbgrader starts.

The settings are JSON (the launcher reads them in the kernel's start command): ``bwrap``,
``setpriv``, ``groups`` (control groups to join), ``runtime`` (the job's runtime folder, where the
launcher puts the link to the sandbox's sockets), ``python``, ``read`` (the Python installation,
bound read-only), ``kit`` and ``data`` (bound at ``/opt/cnnkit/kit`` and ``/opt/cnnkit/data``),
``mask`` (copies of the instructor's package inside ``read``, hidden), ``uid`` and ``gid`` (the
kernel's user when the grader is root), and the limits ``memory``, ``file_size``, ``disk``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path, PurePosixPath

from autograder.batch.limits import Limits
from autograder.batch.sandbox.command import KERNEL_GID, KERNEL_UID
from autograder.batch.sandbox.isolation import Isolation

#: The name of the link, in the job's runtime folder, to the sandbox's socket folder.
LINK = "k"

def kernel_ip(runtime: Path) -> str:
    """``KernelManager.ip`` for a job: the sockets' prefix through the link that the launcher
    makes to the sandbox's own socket folder."""
    return str(Path(runtime) / LINK / "kernel")


def python_trees() -> list[str]:
    """The folders of the Python installation a kernel reads: the environment and its base."""
    trees: list[str] = []
    for prefix in (sys.base_prefix, sys.prefix):
        for path in (Path(prefix), Path(prefix).resolve()):
            if str(path) not in trees:
                trees.append(str(path))
    return trees


def instructor_copies(trees: list[str]) -> list[str]:
    """Copies of the instructor's package, or of the kit's installed data, that lie inside
    ``trees`` (or the system's /usr): a non-editable install in site-packages, say. The kernel
    must find the student distribution only."""
    import autograder

    found = {Path(autograder.__file__).resolve().parent}
    found.update(Path(entry).resolve() / "autograder" for entry in sys.path if entry)
    for prefix in {sys.prefix, sys.base_prefix}:
        found.add(Path(prefix).resolve() / "share" / "cnn-course-kit")
    inside = [PurePosixPath(t) for t in [*trees, "/usr"]]
    return sorted(str(p) for p in found
                  if p.is_dir() and any(PurePosixPath(p).is_relative_to(t) for t in inside))


def _unreadable(folder: Path) -> Path | None:
    """The first file or folder under ``folder`` that another user cannot read (or enter)."""
    for path in [folder, *folder.rglob("*")]:
        mode = path.lstat().st_mode
        need = 0o005 if stat.S_ISDIR(mode) else 0o004
        if not stat.S_ISLNK(mode) and mode & need != need:
            return path
    return None


def _check(kit_dir: Path, data_dir: Path, isolation: Isolation) -> None:
    if not (kit_dir / "autograder" / "__init__.py").is_file():
        raise ValueError(f"kit_dir: expected a folder holding the student package "
                         f"(autograder/__init__.py), got {kit_dir}. Build the student "
                         f"distribution there first.")
    if not data_dir.is_dir():
        raise ValueError(f"data_dir: expected the MNIST folder the kernel may see, got {data_dir}, "
                         f"which is not a folder.")
    if isolation.available and os.geteuid() == 0:
        for name, folder in (("kit_dir", kit_dir), ("data_dir", data_dir)):
            bad = _unreadable(folder)
            if bad is not None:
                raise ValueError(f"{name}: expected files every user can read (the kernel runs as "
                                 f"an unprivileged user), got mode {stat.S_IMODE(bad.stat().st_mode):04o} "
                                 f"on {bad}. Run `chmod -R a+rX {folder}`.")


def settings_for(limits: Limits, runtime: Path, isolation: Isolation, groups: tuple[str, ...], *,
                 kit_dir: Path, data_dir: Path, uid: int = KERNEL_UID,
                 gid: int = KERNEL_GID) -> dict:
    """The launcher's settings for one job, as JSON-ready data.

    ``kit_dir`` holds the student package ``autograder/`` and ``data_dir`` the MNIST files the
    kernel may see; both are bound read-only. ``groups`` are the job's control groups; ``uid``
    and ``gid`` are the kernel's user when the grader is root.
    """
    kit_dir, data_dir = Path(kit_dir).resolve(), Path(data_dir).resolve()
    _check(kit_dir, data_dir, isolation)
    read = python_trees()
    return {"bwrap": isolation.bwrap, "setpriv": isolation.setpriv, "groups": list(groups),
            "runtime": str(runtime), "python": sys.executable, "read": read,
            "kit": str(kit_dir), "data": str(data_dir), "mask": instructor_copies(read),
            "uid": uid, "gid": gid, "memory": limits.memory, "file_size": limits.file_size,
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
