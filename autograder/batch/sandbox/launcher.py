"""The kernel's start command: limits, control groups, then bubblewrap, watched to its end.

It runs as the grader, started by jupyter_client as ``python -I -m autograder.batch.sandbox
<settings.json> <connection file>``. In order, it:

1. sets the per-process limits (RLIMIT_DATA, RLIMIT_FSIZE, no core files), which every process
   it starts inherits;
2. joins the job's control groups (processes, memory), so that everything it starts is counted;
3. starts bubblewrap as its child, giving it the connection file through a pipe (``--file``,
   with ``ip`` changed to the sandbox's own socket folder) and reading the sandbox's process id
   from ``--info-fd``;
4. once the sandbox's root is in place, links ``<runtime>/k`` to ``/proc/<pid>/root/tmp/.rt``,
   the sandbox's socket folder: nbclient connects to ``<runtime>/k/kernel-<port>`` through the
   link (ZeroMQ retries until the sockets are there), and no host folder is writable inside;
5. waits for bubblewrap and exits with its status.

bubblewrap runs with ``--die-with-parent``: when jupyter_client kills this process, the sandbox
dies with it. When the process that started this one exits without stopping the kernel, this
one kills the sandbox (a kernel's own watch on its parent, ``JPY_PARENT_PID``, cannot see out of
the sandbox).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder.batch.sandbox import cgroups
from autograder.batch.sandbox.command import CONNECTION, RUNTIME, SOCKETS, bwrap_argv
from autograder.batch.sandbox.settings import LINK

#: Seconds to wait for the sandbox's root to be in place before giving up on the link.
READY_SECONDS = 60
#: Seconds between two looks at whether the process that started the kernel is still there.
PARENT_POLL_SECONDS = 1.0


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))


def _ready(pid: int) -> bool:
    """Whether process ``pid`` has moved into the sandbox's root (not the host's) and the
    connection file is there, so that the link cannot lead into the host's /tmp."""
    root = f"/proc/{pid}/root"
    try:
        inside, host = os.stat(root), os.stat("/")
        os.stat(root + CONNECTION)
    except OSError:
        return False
    return (inside.st_dev, inside.st_ino) != (host.st_dev, host.st_ino)


def _parent() -> int:
    """The process that started this one: ``JPY_PARENT_PID``, which jupyter_client sets to its own
    process id, else ``os.getppid()``. The variable stays right when that process died while this
    one was still starting (Python, the kit's imports: a second or more under load), when
    ``os.getppid()`` already names whatever adopted this one, which never goes away."""
    named = os.environ.get("JPY_PARENT_PID", "")
    return int(named) if named.isdigit() else os.getppid()


def _link(runtime: str, pid: int, bwrap: subprocess.Popen, parent: int) -> None:
    """Point ``<runtime>/k`` at the sandbox's socket folder once the sandbox is set up (not if
    ``parent`` went away meanwhile: :func:`_wait` then stops it)."""
    deadline = time.monotonic() + READY_SECONDS
    while not _ready(pid):
        if bwrap.poll() is not None or time.monotonic() > deadline or os.getppid() != parent:
            return
        time.sleep(0.01)
    link, temporary = Path(runtime) / LINK, Path(runtime) / f".{LINK}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(f"/proc/{pid}/root{RUNTIME}")
    os.replace(temporary, link)


def _start(settings: dict, connection_file: str, parent: int) -> subprocess.Popen:
    """Start bubblewrap; return it once the link to its sockets is made."""
    connection = json.loads(Path(connection_file).read_text(encoding="utf-8"))
    connection["ip"] = SOCKETS
    data_read, data_write = os.pipe()
    info_read, info_write = os.pipe()
    # The connection file is far smaller than a pipe's buffer: written whole before bwrap reads.
    os.write(data_write, json.dumps(connection).encode("utf-8"))
    os.close(data_write)
    bwrap = subprocess.Popen(bwrap_argv(settings, data_read, info_write),
                             pass_fds=(data_read, info_write))
    os.close(data_read)
    os.close(info_write)
    with os.fdopen(info_read, "rb") as info:
        text = info.read()
    try:
        pid = int(json.loads(text)["child-pid"])
    except (ValueError, KeyError):
        return bwrap  # bubblewrap failed before it started the sandbox; its message is on stderr
    _link(settings["runtime"], pid, bwrap, parent)
    return bwrap


def _wait(bwrap: subprocess.Popen, parent: int) -> int:
    """Wait for bubblewrap; kill it if this process's parent goes away first."""
    while True:
        try:
            return bwrap.wait(timeout=PARENT_POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:
                bwrap.kill()
                return bwrap.wait()


def _exit_like(status: int) -> None:
    """Exit with bubblewrap's status: its code, or the signal that killed it."""
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    sys.exit(status if status >= 0 else 128 - status)


def launch(settings_file: str, connection_file: str) -> None:
    """Start the kernel in its sandbox and wait for it (see the module's docstring)."""
    parent = _parent()
    settings = json.loads(Path(settings_file).read_text(encoding="utf-8"))
    _limit(resource.RLIMIT_DATA, settings["memory"])
    _limit(resource.RLIMIT_FSIZE, settings["file_size"])
    _limit(resource.RLIMIT_CORE, 0)
    for group in settings["groups"]:
        cgroups.join(group, os.getpid())
    if not settings["bwrap"]:
        # No isolation: the kernel binds its sockets in a real folder where the link would be,
        # and sees the same kit and data as a sandboxed one would.
        from autograder.data import DATA_DIR_ENV

        (Path(settings["runtime"]) / LINK).mkdir(exist_ok=True)
        os.environ.update({"PYTHONPATH": settings["kit"], DATA_DIR_ENV: settings["data"]})
        argv = [settings["python"], "-m", "ipykernel_launcher", "-f", connection_file]
        os.execv(argv[0], argv)
    _exit_like(_wait(_start(settings, connection_file, parent), parent))
