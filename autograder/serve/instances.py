"""Which service runs a course: each start registers itself with a heartbeat, so that the next
start can tell a live service (refuse to start beside it) from a dead one (take over its claims).

A service is dead when it said it stopped, when its heartbeat is older than :data:`STALE`, or when
it ran on this host and its process is gone (a SIGKILL: no need to wait for the heartbeat).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import psutil
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from autograder.errors import BadInput
from autograder.serve.tables import INSTANCE, as_utc, now

#: How often a live service writes its heartbeat.
HEARTBEAT = timedelta(seconds=5)

#: A heartbeat older than this is a dead service's.
STALE = timedelta(seconds=30)


@dataclass(frozen=True)
class Instance:
    """A service's row."""

    id: str
    host: str
    pid: int
    started: datetime
    heartbeat: datetime
    stopped: bool


def is_dead(instance: Instance, moment: datetime, host: str | None = None) -> bool:
    """Whether ``instance`` is no longer running, seen from ``host`` at ``moment``."""
    if instance.stopped or moment - instance.heartbeat > STALE:
        return True
    if instance.host == (host or socket.gethostname()):
        try:
            process = psutil.Process(instance.pid)
            # A new process may have been given the same id since.
            return process.create_time() > instance.started.timestamp() + 1
        except psutil.NoSuchProcess:
            return True
    return False


class Registry:
    """The services of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.id = uuid.uuid4().hex

    def all(self) -> list[Instance]:
        """Every service that ever ran, oldest first."""
        with self.engine.connect() as db:
            rows = db.execute(select(INSTANCE).order_by(INSTANCE.c.started))
            return [Instance(r.id, r.host, r.pid, as_utc(r.started), as_utc(r.heartbeat), r.stopped)
                    for r in rows]

    def start(self) -> list[str]:
        """Register this service; return the dead services whose claims it takes over.

        Raises :class:`~autograder.errors.BadInput` when another service of this database is
        alive."""
        moment = now()
        others = [i for i in self.all() if i.id != self.id]
        alive = [i for i in others if not is_dead(i, moment)]
        if alive:
            other = alive[0]
            raise BadInput(f"cnnkit serve: expected no other service on this database, got one "
                           f"running since {other.started:%Y-%m-%d %H:%M:%S} UTC (process "
                           f"{other.pid} on {other.host}, last heard "
                           f"{int((moment - other.heartbeat).total_seconds())} s "
                           f"ago). Stop it first, or give this one another --db-url.")
        with self.engine.begin() as db:
            db.execute(insert(INSTANCE).values(id=self.id, host=socket.gethostname(), pid=os.getpid(),
                                               started=moment, heartbeat=moment, stopped=False))
            if others:
                db.execute(update(INSTANCE).where(INSTANCE.c.id.in_([i.id for i in others]))
                           .values(stopped=True))
        return [i.id for i in others]

    def beat(self) -> None:
        """Write this service's heartbeat."""
        with self.engine.begin() as db:
            db.execute(update(INSTANCE).where(INSTANCE.c.id == self.id).values(heartbeat=now()))

    def stop(self) -> None:
        """Say that this service stopped."""
        with self.engine.begin() as db:
            db.execute(update(INSTANCE).where(INSTANCE.c.id == self.id).values(stopped=True))
