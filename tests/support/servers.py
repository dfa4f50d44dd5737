"""Real servers on loopback for the batch grader's tests: PostgreSQL from the Linux distribution's
package, and a Dask distributed scheduler with worker processes."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL server: expected /usr/lib/postgresql/<version>/bin/pg_ctl, "
                           "found none. Install it with `apt-get install postgresql` (the test "
                           "script does this when it runs as root).")
    return Path(found[-1]).parent


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server on 127.0.0.1; yield the SQLAlchemy URL of an empty
    database ``gradebook`` on it; stop it and delete its files afterwards."""
    import psycopg

    binaries = postgres_bin()
    as_root = os.geteuid() == 0
    # PostgreSQL refuses to run as root: run it as the package's own user.
    prefix: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="cnnkit-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if as_root:
        user = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    log = base / "server.log"
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "cnnkit",
                        "--auth=trust", "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                        "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=60)
        with psycopg.connect(f"host=127.0.0.1 port={port} user=cnnkit dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE gradebook")
        yield f"postgresql+psycopg://cnnkit@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def dask_cluster(workers: Sequence[dict[str, float]], env: dict[str, str] | None = None
                 ) -> Iterator[tuple[str, list[int]]]:
    """Start ``dask scheduler`` and one ``dask worker`` process per entry of ``workers`` (its
    resources, e.g. ``{"GPU": 1}``) on 127.0.0.1; yield the scheduler's address and the workers'
    process ids; stop them all afterwards."""
    dask = str(Path(sys.executable).parent / "dask")
    base = Path(tempfile.mkdtemp(prefix="cnnkit-dask-"))
    scheduler_file = base / "scheduler.json"
    environment = {**os.environ, **(env or {})}
    # The logs stay open as long as the processes that write them run.
    log = open(base / "scheduler.log", "w")  # noqa: SIM115
    processes = [subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(free_port()), "--no-dashboard",
         "--scheduler-file", str(scheduler_file)], stdout=subprocess.DEVNULL,
        stderr=log, env=environment)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler: expected it up within 60 s, got no scheduler "
                                   f"file. Its log: {(base / 'scheduler.log').read_text()}")
            time.sleep(0.2)
        time.sleep(0.3)
        address = json.loads(scheduler_file.read_text())["address"]
        for index, resources in enumerate(workers):
            command = [dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                       "--no-dashboard", "--host", "127.0.0.1", "--name", f"worker-{index}",
                       "--local-directory", str(base / f"worker-{index}")]
            if resources:
                command += ["--resources", " ".join(f"{k}={v:g}" for k, v in resources.items())]
            log = open(base / f"worker-{index}.log", "w")  # noqa: SIM115
            processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                                              env=environment))
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(len(workers), timeout=120)
            names = {address: info["name"] for address, info in
                     client.scheduler_info(n_workers=-1)["workers"].items()}
            by_name = {names[address]: pid for address, pid in client.run(os.getpid).items()}
            pids = [by_name[f"worker-{index}"] for index in range(len(workers))]
        yield address, pids
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(base, ignore_errors=True)
