"""The service's settings, declared once (:func:`autograder.settings.setting`): each with its
default and the help text that ``cnnkit serve --help`` shows, its option generated from it.

Bad values raise :class:`~autograder.errors.BadInput` naming the setting, the value and the fix.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.batch.limits import Limits, limits_setting
from autograder.budget import BUDGETS
from autograder.errors import BadInput
from autograder.settings import setting

#: Which attempt of a student counts for the grade.
COUNTS = ("latest", "best")


def upload_size(text: str) -> int:
    """``--max-upload``: a size in bytes, as :func:`dask.utils.parse_bytes` reads it.

    >>> upload_size("20MiB"), upload_size("512KiB")
    (20971520, 524288)
    """
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(text))
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected a size such as 20MB or 512KiB, got {text!r}") from None


@dataclass(frozen=True)
class ServeSettings:
    """How ``cnnkit serve`` runs for one course."""

    course: Path = Path(".")
    """The nbgrader course folder (nbgrader_config.py, source/, the gradebook): the command
    line's ``--course``, which every command shares."""
    db_url: str | None = setting(None, "The database of the gradebook, the queue and the tokens "
                                       "(default: the course's gradebook, sqlite:///<course>/"
                                       "gradebook.db; e.g. postgresql+psycopg://user:password@"
                                       "host/db).")
    host: str = setting("127.0.0.1", "The address to listen on. Keep 127.0.0.1 and put a TLS "
                                     "proxy in front (see the README); 0.0.0.0 listens on every "
                                     "network.")
    port: int = setting(8090, "The TCP port to listen on.")
    budget: str = setting("cpu", "The training budget the notebooks are graded under.",
                          choices=sorted(BUDGETS))
    workers: int | None = setting(None, "Submissions graded at once on this machine (default: "
                                        "what the cores and memory allow under the budget; 0: "
                                        "accept and queue submissions, grade nothing).")
    scheduler: str | None = setting(None, "Grade on the workers of this Dask scheduler (e.g. "
                                          "tcp://10.0.0.5:8786) instead of this machine; as many "
                                          "jobs run at once as it has workers.",
                                    metavar="ADDRESS")
    attempts_per_hour: int = setting(10, "Uploads a student may make per assignment in any hour; "
                                         "past it, an upload is refused with the time the next "
                                         "one is allowed.")
    counts: str = setting("latest", "Which attempt counts for the grade: the latest graded one, "
                                    "or the best (highest score after the late penalty).",
                          choices=COUNTS)
    cutoff: str | None = setting(None, "Refuse submissions this long after an assignment's due "
                                       "date (e.g. 48h, 3d, 90m), or after this UTC time (e.g. "
                                       "2025-06-01T12:00); default: never refuse a late one, "
                                       "only apply nbgrader's late penalty.",
                                 metavar="DURATION|TIME")
    max_upload: int = setting(20 * 2**20, "The largest upload taken, in bytes (K, M, G "
                                          "suffixes on the command line).",
                              type=upload_size, metavar="SIZE", shown="20MiB")
    exchange: bool = setting(True, "Watch the nbgrader exchange's inbound folder and grade what "
                                   "students submit with `nbgrader submit`.")
    poll_seconds: float = setting(1.0, "How often the exchange's inbound folder is looked at.")
    rate_limit: int = setting(60, "Requests a signed-in student (or an address, before signing "
                                  "in) may make in a burst, refilled at that many per minute; "
                                  "past it, requests are refused with status 429.")
    session_hours: float = setting(12.0, "How long a sign-in lasts.")
    public_url: str | None = setting(None, "The address students open, for the personal links "
                                           "(default: http://HOST:PORT); the proxy's https "
                                           "address behind a TLS proxy.", aliases=("--url",))
    trusted_proxies: str = setting("127.0.0.1", "Addresses whose X-Forwarded-For and "
                                                "X-Forwarded-Proto headers are believed (the TLS "
                                                "proxy's), comma separated.")
    output: Path | None = setting(None, "Where grades.csv and report.html are kept current "
                                        "(default: <course>/grading).")
    limits: Limits | None = limits_setting()

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise BadInput(f"--budget: expected one of {', '.join(sorted(BUDGETS))}, got "
                           f"{self.budget!r}.")
        if self.counts not in COUNTS:
            raise BadInput(f"--counts: expected one of {', '.join(COUNTS)}, got {self.counts!r}.")
        for name in ("attempts_per_hour", "rate_limit", "max_upload"):
            if getattr(self, name) < 1:
                raise BadInput(f"--{name.replace('_', '-')}: expected at least 1, got "
                               f"{getattr(self, name)!r}.")
        if self.workers is not None and self.workers < 0:
            raise BadInput(f"--workers: expected 0 or more, got {self.workers!r}.")
        if not 0 < self.port < 65536:
            raise BadInput(f"--port: expected a TCP port (1-65535), got {self.port!r}.")
        if self.poll_seconds <= 0 or self.session_hours <= 0:
            raise BadInput(f"--poll-seconds and --session-hours: expected more than 0, got "
                           f"{self.poll_seconds!r} and {self.session_hours!r}.")
        parse_cutoff(self.cutoff)

    @property
    def url(self) -> str:
        """Where students open the service."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class Cutoff:
    """When late submissions stop being taken: a time after the due date, or a fixed time."""

    after_due: timedelta | None = None
    """How long after each assignment's due date."""
    at: datetime | None = None
    """A fixed time (UTC) for every assignment."""

    def moment(self, due: datetime | None) -> datetime | None:
        """The cut-off for an assignment due at ``due`` (None: there is none)."""
        if self.at is not None:
            return self.at
        if self.after_due is not None and due is not None:
            return due + self.after_due
        return None


_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_cutoff(text: str | None) -> Cutoff | None:
    """``--cutoff``: a duration after the due date (``48h``, ``3d``, ``1d12h``) or a UTC time
    (``2025-06-01T12:00``).

    >>> parse_cutoff("1d12h").after_due
    datetime.timedelta(days=1, seconds=43200)
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    parts = list(_DURATION.finditer(text))
    if parts and "".join(p.group(0) for p in parts).replace(" ", "") == text.replace(" ", ""):
        seconds = sum(float(p.group("number")) * _UNITS[p.group("unit")] for p in parts)
        return Cutoff(after_due=timedelta(seconds=seconds))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--cutoff: expected a time after the due date (e.g. 48h, 3d, 1d12h) or a "
                       f"UTC time (e.g. 2025-06-01T12:00), got {text!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Cutoff(at=moment.astimezone(UTC))
