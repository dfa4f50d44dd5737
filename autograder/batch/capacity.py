"""How many submissions this machine can grade at once under a budget.

Each worker is a kernel with TensorFlow loaded. The memory a kernel needs depends on what it
trains, which the budget decides. The cores are shared out when each job starts, not when the
batch is planned (:func:`share`): a job that starts alone gets every core, jobs that start while
others run share them, so that a lone submission does not train on one core of two. The figures
in :data:`PEAK_GIB` are estimates of one run's peak memory with headroom; no benchmark of the
repository measures memory (``benchmarks/grading_time.py`` measures time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import psutil

from autograder.budget import MODELS
from autograder.errors import BadInput

#: Peak memory of one grading run in GiB, with some headroom: (budget, trains a model?) -> GiB.
PEAK_GIB = {
    ("smoke", False): 1.0, ("smoke", True): 1.5,
    ("cpu", False): 1.0, ("cpu", True): 2.5,
    ("gpu", False): 1.0, ("gpu", True): 4.0,
    ("tutorial", False): 1.0, ("tutorial", True): 4.0,
}

#: Memory left to the coordinator and the system, GiB.
RESERVE_GIB = 1.0


@dataclass(frozen=True)
class Capacity:
    """The worker count chosen for this machine, and why."""

    cores: int
    """CPU cores this process may use."""
    workers: int
    """Submissions graded at once."""
    threads: int
    """TensorFlow threads of a job that starts alone: every core. A job that starts while others
    run gets its share, decided then (:func:`share`)."""
    reason: str
    """Why, in one line."""


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def available_gib() -> float:
    """The memory available to new processes without swapping, in GiB (``psutil``'s
    ``virtual_memory().available``: ``MemAvailable`` on Linux)."""
    return psutil.virtual_memory().available / 2**30


def gpus() -> int:
    """How many GPUs ``nvidia-smi -L`` lists (0 without the tool)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20,
                                 check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("GPU "))


def plan(budget: str, assignments: Sequence[str], workers: int | None = None) -> Capacity:
    """The worker count for grading ``assignments`` under ``budget`` here: ``workers`` when the
    grader set it, else as many as the cores, the memory and (for the gpu budget) the GPUs allow.
    Raises :class:`~autograder.errors.BadInput` for ``workers`` below 1."""
    n_cores = cores()
    if workers is not None:
        if workers < 1:
            raise BadInput(f"--workers: expected a whole number of at least 1, got {workers}. "
                           f"Leave --workers out to use what this machine allows.")
        chosen, reason = workers, "set with --workers"
    else:
        memory = available_gib()
        trains = any(a in MODELS for a in assignments)
        peak = PEAK_GIB.get((budget, trains), 4.0)
        by_memory = max(1, int((memory - RESERVE_GIB) // peak))
        chosen = max(1, min(n_cores, by_memory))
        reason = (f"{n_cores} core(s), {memory:.1f} GiB available at about {peak:g} GiB per "
                  f"{'training' if trains else 'non-training'} run under the '{budget}' budget")
        if budget == "gpu":
            n_gpus = gpus()
            chosen = max(1, min(chosen, n_gpus or 1))
            reason += f", {n_gpus} GPU(s)"
    return Capacity(n_cores, chosen, n_cores, reason)


#: How many times over the cores the running jobs' threads may ask for them. A job keeps the
#: threads it starts with after the others end, so an exact share leaves cores idle: on 2 cores a
#: ResNet-34 that started beside the CNN kept one thread for the eight minutes it trained alone
#: afterwards, and two training notebooks side by side finished sooner with two threads each than
#: with one (206 s against 217 s for four). Twice over keeps a lone late job at full speed on a
#: small machine and bounds the contention on a large one.
OVERSUBSCRIBE = 2


def share(running: int, *, n_cores: int | None = None, most: int = 0) -> int:
    """TensorFlow threads for a job that starts while ``running`` jobs run, itself included:
    :data:`OVERSUBSCRIBE` times the cores (default: this process's) shared among them, at least 1,
    at most the cores, and at most ``most`` (0: no bound).

    >>> share(1, n_cores=2), share(2, n_cores=2), share(3, n_cores=2), share(4, n_cores=16)
    (2, 2, 1, 8)
    >>> share(1, n_cores=8, most=2)
    2
    """
    n = cores() if n_cores is None else n_cores
    threads = max(1, min(n, OVERSUBSCRIBE * n // max(1, running)))
    return min(threads, most) if most > 0 else threads
