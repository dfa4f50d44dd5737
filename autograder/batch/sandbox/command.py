"""The bubblewrap command line that shuts a kernel in, and what the kernel finds inside.

Inside the sandbox (the same on every machine)::

    /usr /etc /bin ...        the system, read-only
    <Python installation>     the interpreter and the environment, read-only, at their own paths
    /opt/cnnkit/kit           the student distribution of the kit (``PYTHONPATH``), read-only
    /opt/cnnkit/data          the MNIST files the kernel may see (``CNNKIT_DATA_DIR``), read-only
    /tmp                      memory-backed, writable, ``disk`` less the share of /dev/shm
    /tmp/work                 the kernel's working folder (its notebook's folder)
    /tmp/home                 ``HOME``
    /tmp/.rt                  the connection file and the kernel's sockets
    /dev/shm                  memory-backed, writable, min(64 MiB, disk / 8)
    /dev /proc                fresh; /dev is read-only

Nothing else is writable, the root folder included.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

#: The kernel's working folder inside the sandbox.
WORK = "/tmp/work"
#: The kernel's ``HOME`` inside the sandbox.
HOME = "/tmp/home"
#: The folder of the connection file and of the kernel's sockets inside the sandbox.
RUNTIME = "/tmp/.rt"
#: The connection file inside the sandbox.
CONNECTION = f"{RUNTIME}/kernel.json"
#: The prefix of the kernel's Unix sockets inside the sandbox (jupyter_client adds ``-<port>``).
SOCKETS = f"{RUNTIME}/kernel"
#: Where the student distribution of the kit is mounted; it is the kernel's ``PYTHONPATH``.
KIT = "/opt/cnnkit/kit"
#: Where the MNIST folder is mounted; it is the kernel's ``CNNKIT_DATA_DIR``.
DATA = "/opt/cnnkit/data"

#: The user and group a kernel runs as when the grader is root: ``nobody``, which owns nothing.
KERNEL_UID = 65534
KERNEL_GID = 65534

#: The largest share of the ``disk`` limit given to /dev/shm (the rest goes to /tmp).
SHM_MAX = 64 * 2**20

#: The grader's variables a kernel gets (by name); everything else is left out.
PASSED_ENV = ("CNNKIT_BUDGET", "TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS",
              "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "NBGRADER_EXECUTION",
              "NBGRADER_VALIDATING", "CUDA_VISIBLE_DEVICES")


#: The smallest size given to a memory-backed folder (a size of 0 would mean no limit at all).
PAGE = 4096


def split_disk(disk: int) -> tuple[int, int]:
    """The sizes of /tmp and /dev/shm, which together are ``disk`` bytes (at least a page each).

    >>> split_disk(2 * 2**30)
    (2080374784, 67108864)
    """
    shm = max(PAGE, min(SHM_MAX, disk // 8))
    return max(PAGE, disk - shm), shm


def namespaces(privileged: bool) -> list[str]:
    """bubblewrap's namespace and capability options.

    A root grader makes the namespaces itself and makes no user namespace: in one, the kernel's
    user would be the grader's root outside (a user namespace made by root maps to root), and
    could read what root alone may read (``/etc/shadow``). The sandbox keeps only the two
    capabilities that :func:`user_switch` needs to leave root. (``--unshare-all`` is not used
    here: it adds a user namespace where it can.) Any other grader is already an unprivileged
    user, and keeps its own uid in a user namespace of its own.
    """
    if privileged:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return ["--unshare-all", "--unshare-user", "--uid", str(os.getuid()), "--gid", str(os.getgid())]


def user_switch(settings: dict, privileged: bool) -> list[str]:
    """The command that makes a root-started sandbox's kernel an unprivileged user for good:
    its uid and gid (no supplementary groups), no capabilities, none to inherit or regain
    (``no_new_privs``). Nothing when the grader is not root."""
    if not privileged:
        return []
    return [settings["setpriv"], f"--reuid={settings['uid']}", f"--regid={settings['gid']}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]


def _system() -> tuple[list[str], list[str]]:
    """The system's folders bound read-only, and the options for the top-level symlinks."""
    folders, links = ["/usr", "/etc"], []
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            links += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            folders.append(str(path))
    return folders, links


def _binds(settings: dict) -> list[str]:
    """Read-only binds of the system, the Python installation, the kit and the data.

    bubblewrap makes the missing parents of a bind's destination with mode 0700, which an
    unprivileged kernel cannot cross (``/root`` on the way to ``/root/.pyenv/...``): each parent
    is made first, 0755. A path inside one already bound is not bound again.
    """
    folders, args = _system()
    pairs = [(p, p) for p in folders + list(settings["read"])]
    pairs += [(settings["kit"], KIT), (settings["data"], DATA)]
    made = {PurePosixPath("/"), PurePosixPath("/tmp")}
    bound: list[PurePosixPath] = []
    for source, dest in pairs:
        target = PurePosixPath(dest)
        if any(target.is_relative_to(b) for b in bound):
            continue
        for parent in reversed(target.parents):
            if parent not in made and not any(parent.is_relative_to(b) for b in bound):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", source, dest]
        bound.append(target)
    return args


def kernel_env(settings: dict) -> dict[str, str]:
    """The kernel's whole environment: a fixed part and the few variables of :data:`PASSED_ENV`."""
    from autograder import settings as kit_settings
    from autograder.data import DATA_DIR_ENV

    env = {"PATH": f"{Path(settings['python']).parent}:/usr/bin:/bin", "HOME": HOME, "TMPDIR": "/tmp",
           "LANG": "C.UTF-8", "MPLCONFIGDIR": f"{HOME}/.matplotlib", "PYTHONNOUSERSITE": "1",
           "PYTHONPATH": KIT, DATA_DIR_ENV: DATA, kit_settings.SANDBOXED.name: "1"}
    env.update({name: os.environ[name] for name in PASSED_ENV if name in os.environ})
    return env


def bwrap_argv(settings: dict, connection_fd: int, info_fd: int, *,
               privileged: bool | None = None) -> list[str]:
    """The bubblewrap command line that runs the kernel.

    ``connection_fd`` is read for the connection file (put at :data:`CONNECTION`); bubblewrap
    writes the sandbox's process id to ``info_fd``. ``privileged`` says whether the grader is root
    (default: whether this process is).
    """
    privileged = os.geteuid() == 0 if privileged is None else privileged
    tmp_size, shm_size = split_disk(settings["disk"])
    args = [settings["bwrap"], "--die-with-parent", *namespaces(privileged), "--new-session",
            "--clearenv", "--proc", "/proc"]
    # A fresh /dev, then its own bounded /dev/shm (bubblewrap's is unbounded), then /dev read-only
    # so that no file can be made there (the remount is not recursive: /dev/shm stays writable).
    args += ["--dev", "/dev", "--perms", "1777", "--size", str(shm_size), "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev"]
    # /tmp before the binds: a Python environment may live under /tmp, and is bound over it.
    args += ["--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp"]
    for folder in (WORK, HOME, RUNTIME):
        args += ["--perms", "1777", "--dir", folder]
    args += ["--perms", "0444", "--file", str(connection_fd), CONNECTION]
    args += _binds(settings)
    for path in settings["mask"]:
        args += ["--perms", "0555", "--tmpfs", path, "--remount-ro", path]
    # Last: the root folder (bubblewrap's own, unbounded, and the kernel's in a user namespace)
    # read-only; the folders mounted on it keep their own modes.
    args += ["--remount-ro", "/", "--chdir", WORK, "--info-fd", str(info_fd)]
    for name, value in kernel_env(settings).items():
        args += ["--setenv", name, value]
    return [*args, "--", *user_switch(settings, privileged), settings["python"], "-m",
            "ipykernel_launcher", "-f", CONNECTION]
