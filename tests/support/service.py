"""``cnnkit serve`` as a real process on a free loopback port, for the tests of any package that
grade through the service, and a student's token in its course."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from support.servers import free_port


class Service:
    """``cnnkit serve`` running as a process for one course."""

    def __init__(self, course: Path, *args: str, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.course = course
        self.args = args
        self.env = {**os.environ, "CNNKIT_BUDGET": "smoke", "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = course.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> Service:
        command = [sys.executable, "-m", "autograder.cli.main", "serve", str(self.course),
                   "--port", str(self.port), "--budget", "smoke", "--poll-seconds", "0.5", *self.args]
        log = open(self.log, "a")  # noqa: SIM115 - the server writes to it as long as it runs
        self.process = subprocess.Popen(command, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cnnkit serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"cnnkit serve did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` and wait for the process to end."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=90)

    @property
    def db(self) -> Path:
        return self.course / "gradebook.db"

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of ``sql`` on the course's database (read-only)."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def upload(self, token: str, assignment: str, data: bytes, filename: str | None = None,
               **extra) -> httpx.Response:
        """``POST /api/submissions`` as the holder of ``token``."""
        return httpx.post(f"{self.url}/api/submissions", headers={"Authorization": f"Bearer {token}"},
                          data={"assignment": assignment},
                          files={"notebook": (filename or f"{assignment}.ipynb", data)},
                          timeout=60, **extra)

    def status(self, token: str, submission_id: int) -> dict:
        response = httpx.get(f"{self.url}/api/submissions/{submission_id}",
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        response.raise_for_status()
        return response.json()

    def wait_final(self, token: str, ids, timeout: float = 300.0) -> dict[int, dict]:
        """Wait until each submission is done, failed or replaced; return their states."""
        deadline = time.monotonic() + timeout
        found: dict[int, dict] = {}
        while time.monotonic() < deadline:
            found = {i: self.status(token, i) for i in ids}
            if all(s["final"] for s in found.values()):
                return found
            time.sleep(1.0)
        raise AssertionError(f"not graded within {timeout} s: "
                             f"{ {i: s['state'] for i, s in found.items()} }\n{self.output()}")


def issue(course: Path, student: str, role: str = "student") -> str:
    """A personal token for ``student`` in ``course``'s database."""
    from autograder.serve import tables
    from autograder.serve.tokens import Tokens

    engine = tables.connect(f"sqlite:///{course / 'gradebook.db'}")
    try:
        return Tokens(engine).issue(student, role)
    finally:
        engine.dispose()
