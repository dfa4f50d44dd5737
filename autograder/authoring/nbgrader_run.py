"""Run the real ``nbgrader`` commands in a course folder, with the interpreter's tools on PATH."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds its command line and its last output lines."""


def nbgrader_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader: this interpreter's ``bin/`` first on PATH (nbgrader runs
    ``alembic`` through PATH), plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra or {})
    return env


def run_nbgrader(args: Sequence[str], course_root: Path, *, env: Mapping[str, str] | None = None,
                 check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader <args>`` in ``course_root`` and return the finished process.

    With ``check``, a non-zero exit raises :class:`NbgraderError` with the tail of the output.
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    log.debug("running %s in %s", " ".join(command), course_root)
    process = subprocess.run(command, cwd=course_root, env=nbgrader_env(env), text=True,
                             capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and process.returncode != 0:
        tail = "\n".join((process.stdout + process.stderr).strip().splitlines()[-15:])
        raise NbgraderError(f"nbgrader {' '.join(args)}: expected exit status 0, got "
                            f"{process.returncode}. Its last lines:\n{tail}")
    return process


def put_tools_on_path() -> None:
    """Put this interpreter's ``bin/`` first on this process's PATH, for nbgrader's in-process
    gradebook, which runs ``alembic`` through PATH when it creates a database."""
    tools = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[:1] != [tools]:
        os.environ["PATH"] = os.pathsep.join([tools, path])
