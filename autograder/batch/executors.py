"""Where jobs run: threads waiting on local processes, the workers of a Dask distributed cluster,
or nowhere (a service that only takes submissions).

Every executor takes a :class:`~autograder.batch.jobs.Job`, runs it with
:func:`autograder.batch.runner.execute` and hands back a future of its
:class:`~autograder.batch.jobs.RunResult`. The batch grader (:mod:`autograder.batch.grade`) and
the service's worker (:mod:`autograder.serve.worker`) each keep at most :meth:`Executor.slots`
jobs in flight and learn of each as it finishes through :func:`start`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from autograder.batch import runner
from autograder.batch.jobs import Job, RunResult
from autograder.extras import missing


class Future(Protocol):
    """The part of a future the kit uses (``concurrent.futures`` and ``distributed`` both have it)."""

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(future)`` once the job is done (at once when it is already)."""

    def result(self) -> RunResult:
        """The job's result; raises what its worker raised."""


class Executor(Protocol):
    """Runs jobs, each to a future."""

    description: str
    """Where the jobs run, for the grader."""

    def slots(self) -> int:
        """How many jobs may be in flight now."""

    def submit(self, job: Job) -> Future:
        """Start ``job``; return its future."""

    def stop(self) -> None:
        """Stop the jobs in flight (after an interrupt, or as the service stops)."""

    def close(self) -> None:
        """Release what the executor holds (its threads, a connection to a scheduler)."""


def start(executor: Executor, job: Job, deliver: Callable[[Job, RunResult | BaseException], None]) -> None:
    """Submit ``job`` to ``executor``; once it is done, call ``deliver(job, result)`` with its
    :class:`~autograder.batch.jobs.RunResult` or the exception its worker raised, from whichever
    thread sees it finish. What ``submit`` raises (no GPU worker) is raised here."""

    def done(future: Future) -> None:
        try:
            result: RunResult | BaseException = future.result()
        except BaseException as exc:  # a lost worker, a cancelled task
            result = exc
        deliver(job, result)

    executor.submit(job).add_done_callback(done)


class LocalExecutor:
    """Up to ``workers`` jobs at once, each an ``nbgrader autograde`` process on this machine.

    The threads only wait on their processes; the work happens in the processes, so it runs in
    parallel, and killing the coordinator kills them (Linux's parent-death signal). Each job's
    TensorFlow threads are decided as it starts (:func:`autograder.batch.runner.started_threads`):
    every core for a job that starts alone, a share for one that starts while others run.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers: expected at least 1, got {workers}.")
        self.workers = workers
        self.description = f"{workers} local worker process(es)"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cnnkit-job")

    def slots(self) -> int:
        """The workers: a job each."""
        return self.workers

    def submit(self, job: Job) -> Future:
        """Run ``job`` in a thread of the pool."""
        return self._pool.submit(runner.execute, job)

    def stop(self) -> None:
        """Kill the running ``nbgrader autograde`` processes (their jobs come back as stopped,
        for another run) and cancel the jobs not started."""
        runner.stop_all()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for the threads (each ends with its process)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """The workers of an existing Dask distributed scheduler, as many jobs at once as they have
    threads (counted anew as workers come and go).

    A job under the ``gpu`` budget asks for the resource ``GPU=1``, so only workers started with
    ``--resources GPU=1`` (one per GPU) take it; the others take the rest.
    """

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # Dask's workers are an extra of the kit
            raise missing("--scheduler", "distributed", "dask") from exc
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"--scheduler: expected a Dask scheduler at {address}, got no answer "
                               f"({exc}). Start one with `dask scheduler` and its workers with "
                               f"`dask worker {address}`, or leave --scheduler out to grade on "
                               f"this machine.") from None
        workers = self._workers()
        self.description = (f"Dask scheduler {address}: {len(workers)} worker(s), "
                            f"{self._gpus(workers)} with a GPU")
        self._futures: set = set()

    def _workers(self) -> dict[str, dict]:
        return self.client.scheduler_info(n_workers=-1).get("workers", {})

    @staticmethod
    def _gpus(workers: dict[str, dict]) -> int:
        return sum(1 for w in workers.values() if w.get("resources", {}).get("GPU"))

    def slots(self) -> int:
        """The threads of the scheduler's workers now."""
        return sum(int(w.get("nthreads", 1)) for w in self._workers().values())

    def submit(self, job: Job) -> Future:
        """Send ``job`` to the scheduler (with ``GPU=1`` under the ``gpu`` budget).

        Raises RuntimeError for a ``gpu`` job when no worker declares a GPU: it would wait forever.
        """
        if job.needs_gpu and not self._gpus(self._workers()):
            raise RuntimeError("--budget gpu: expected a Dask worker that declares a GPU, got none "
                               "on the scheduler. Start GPU workers with `dask worker <scheduler> "
                               "--resources GPU=1`, or grade under the cpu budget.")
        future = self.client.submit(runner.execute, job, pure=False,
                                    key=f"cnnkit-{job.student}-{job.assignment}-{job.key[:12]}",
                                    resources={"GPU": 1} if job.needs_gpu else None)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def stop(self) -> None:
        """Cancel the jobs in flight."""
        if self._futures:
            self.client.cancel(list(self._futures))
            self._futures.clear()

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()


class IdleExecutor:
    """No workers (the service's ``--workers 0``): submissions are accepted and wait."""

    description = "no workers: submissions wait in the queue"

    def slots(self) -> int:
        """None."""
        return 0

    def submit(self, job: Job) -> Future:  # pragma: no cover - never called with no slots
        """Refuse: there is nowhere to run ``job``."""
        raise RuntimeError("no workers")

    def stop(self) -> None:
        """Nothing runs."""

    def close(self) -> None:
        """Nothing is held."""


def executor_for(scheduler: str | None, workers: int) -> Executor:
    """The executor of a grader: none for 0 ``workers`` (an :class:`IdleExecutor`), else the Dask
    scheduler at ``scheduler`` if given, else ``workers`` local worker processes."""
    if workers == 0:
        return IdleExecutor()
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)
