"""Where jobs run: a pool of local processes, or the workers of a Dask distributed cluster.

Both take the same :class:`~autograder.batch.jobs.Job` and return the same
:class:`~autograder.batch.runner.RunResult` through :func:`autograder.batch.runner.execute`; the
coordinator sees a stream of finished jobs in the order they finish.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Iterator, Protocol, Sequence

from autograder.batch import runner
from autograder.batch.jobs import Job

Finished = tuple[Job, "runner.RunResult | BaseException"]


class Backend(Protocol):
    """Runs jobs and yields each as it finishes."""

    description: str
    """Where the jobs run, for the grader."""
    workers: int
    """How many jobs run at once."""

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        """Run ``jobs``; yield ``(job, result or exception)`` as each finishes."""

    def stop(self) -> None:
        """Stop what is still running (after an interrupt)."""

    def close(self) -> None:
        """Release what the backend holds (a connection to a scheduler)."""


class LocalBackend:
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

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cnnkit-job")
        pending: dict[Future, Job] = {}
        queue = list(jobs)
        try:
            # Submit no more than the workers can start, so that an interrupt leaves the rest
            # untouched rather than queued.
            while queue or pending:
                while queue and len(pending) < self.workers:
                    job = queue.pop(0)
                    pending[pool.submit(runner.execute, job)] = job
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    error = future.exception()
                    yield job, (error if error is not None else future.result())
        finally:
            if pending:
                self.stop()
            pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        runner.stop_all()

    def close(self) -> None:
        """Nothing to release: the pool ends with each run."""


class DaskBackend:
    """The jobs of a batch on the workers of an existing Dask distributed scheduler.

    A job under the ``gpu`` budget asks for the resource ``GPU=1``, so only workers started with
    ``--resources GPU=1`` (one per GPU) take it; the others take the rest.
    """

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency of the kit
            raise RuntimeError("--scheduler: expected the 'distributed' package, got an import "
                               "error. Install the kit with `pip install -e .`.") from exc
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"--scheduler: expected a Dask scheduler at {address}, got no answer "
                               f"({exc}). Start one with `dask scheduler` and its workers with "
                               f"`dask worker {address}`, or leave --scheduler out to grade on "
                               f"this machine.") from None
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        gpus = sum(1 for w in workers.values() if w.get("resources", {}).get("GPU"))
        self.workers = len(workers)
        self.gpu_workers = gpus
        self.description = (f"Dask scheduler {address}: {len(workers)} worker(s), "
                            f"{gpus} with a GPU")
        self._futures: list = []

    def run(self, jobs: Sequence[Job]) -> Iterator[Finished]:
        from distributed import as_completed

        if any(job.needs_gpu for job in jobs) and self.gpu_workers == 0:
            raise RuntimeError("--budget gpu: expected a Dask worker that declares a GPU, got none "
                               "on the scheduler. Start GPU workers with `dask worker <scheduler> "
                               "--resources GPU=1`, or grade under the cpu budget.")
        submitted = []
        for job in jobs:
            submitted.append((self.client.submit(
                runner.execute, job, pure=False,
                key=f"cnnkit-{job.student}-{job.assignment}-{job.key[:12]}",
                resources={"GPU": 1} if job.needs_gpu else None), job))
        by_key = {future.key: job for future, job in submitted}
        self._futures = [future for future, _ in submitted]
        try:
            for future in as_completed(self._futures):
                job = by_key[future.key]
                try:
                    yield job, future.result()
                except Exception as exc:  # a lost worker, a task error
                    yield job, exc
        finally:
            self.stop()

    def stop(self) -> None:
        if self._futures:
            self.client.cancel(self._futures)
            self._futures = []

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()
