"""Isolation of each submission's kernel, without Docker: bubblewrap, control groups and limits.

nbgrader and nbclient run as the grader, outside; only the kernel, where the student's code runs,
is shut in. Its kernelspec (written per job into a private ``JUPYTER_PATH``,
:mod:`~autograder.batch.sandbox.settings`) starts the launcher
(:mod:`~autograder.batch.sandbox.launcher`), which sets the limits, joins the job's control groups
(:mod:`~autograder.batch.sandbox.cgroups`) and runs bubblewrap
(:mod:`~autograder.batch.sandbox.command`) around a kernel that:

* runs as an unprivileged user of the grader's machine, never root: ``nobody`` (by default) with
  no capabilities when the grader is root, the grader's own user otherwise;
* has no network (its own network namespace; nbclient reaches its Unix sockets through a link to
  the sandbox's own folder, ``<runtime>/k -> /proc/<pid>/root/tmp/.rt``), sees its own processes
  only, and a fresh ``/dev`` and ``/proc``;
* reads the system's programs and libraries, the Python environment, the student distribution of
  the kit (``/opt/cnnkit/kit``, its ``PYTHONPATH``) and the MNIST files it may see
  (``/opt/cnnkit/data``, its ``CNNKIT_DATA_DIR``); not the instructor's package, not the
  course folder (``source/``, the gradebook), not other students' files, not the grader's home;
* writes only memory-backed folders: ``/tmp`` (its working folder ``/tmp/work``, ``HOME``
  ``/tmp/home``, the socket folder ``/tmp/.rt``) and ``/dev/shm``, whose sizes add up to the
  ``disk`` limit; no host folder is mounted writable, ``/dev`` and ``/`` are read-only;
* gets a short, fixed environment: none of the grader's variables (tokens, passwords) reach it.

Per job, a ``pids`` control group holds the number of processes and threads, and a ``memory``
control group the memory of all of them together (files in ``/tmp`` and ``/dev/shm`` included),
where the grader may make them (root, or a delegated group; cgroup v1 or v2); RLIMIT_DATA holds
each process in any case. What is missing is said once (:func:`warning`).

Where bubblewrap is missing or cannot run here, :func:`probe` says so and why, the grader is told
once, loudly, and the kernel runs with the limits that still apply (time, memory, file size,
output), as the grader.

The launcher runs before the kernel, inside the job's limits, so the package imports only the
standard library, :mod:`autograder.batch.limits` (what the limits are) and the names of
:mod:`autograder.data`'s variables; nothing that grades.
"""

from __future__ import annotations

from autograder.batch.limits import Limits
from autograder.batch.sandbox import cgroups
from autograder.batch.sandbox.command import (
    CONNECTION,
    DATA,
    HOME,
    KERNEL_GID,
    KERNEL_UID,
    KIT,
    PASSED_ENV,
    RUNTIME,
    SOCKETS,
    WORK,
    bwrap_argv,
    kernel_env,
    split_disk,
)
from autograder.batch.sandbox.isolation import Isolation, probe, warning
from autograder.batch.sandbox.settings import (
    LINK,
    kernel_ip,
    settings_for,
    write_kernelspec,
)


def make_groups(isolation: Isolation, name: str, limits: Limits) -> tuple[str, ...]:
    """The job's control groups (processes, memory) that could be made here."""
    made = (cgroups.make_group(isolation.pids_root, "pids", name, limits.processes),
            cgroups.make_group(isolation.memory_root, "memory", name, limits.memory))
    return tuple(group for group in made if group is not None)


def remove_groups(groups: tuple[str, ...]) -> None:
    """Kill what is left in the job's control groups and remove them."""
    for group in groups:
        cgroups.remove_group(group)


__all__ = ["CONNECTION", "DATA", "HOME", "KERNEL_GID", "KERNEL_UID", "KIT", "LINK", "PASSED_ENV",
           "RUNTIME", "SOCKETS", "WORK", "Isolation", "bwrap_argv", "kernel_env",
           "kernel_ip", "make_groups", "probe", "remove_groups", "settings_for", "split_disk",
           "warning", "write_kernelspec"]
