"""How many submissions this machine can grade at once under a budget.

Each worker is a kernel with TensorFlow loaded. The memory a kernel needs depends on what it
trains, which the budget decides; the cores are shared out so that the kernels together start no
more TensorFlow threads than there are cores. The figures in :data:`PEAK_GIB` are estimates of
one run's peak memory with headroom; no benchmark of the repository measures memory
(``benchmarks/grading_time.py`` measures time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Sequence

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
    """TensorFlow threads per kernel."""
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
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
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
    threads = max(1, n_cores // chosen)
    return Capacity(n_cores, chosen, threads, reason)
