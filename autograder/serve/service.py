"""``cnnkit serve`` put together: the queue, the worker loop, the exchange watcher, the exports
and the web app, in one process for one course.

Starting, in this order: the database (the service's tables beside the gradebook), the check that
no other service of this database is alive, the definitions of the released assignments in the
gradebook (from ``source/``, once, as ``cnnkit grade`` does), taking over what a dead one had
claimed, then the threads (worker loop, exchange watcher, exports, heartbeat), then the web server. Stopping
runs the other way round, the same way for Ctrl-C (SIGINT) and SIGTERM (what ``systemctl stop``,
Docker and Kubernetes send): no new work is taken, the running notebooks are stopped and go back
to the queue with no try charged, the job folders are removed and the service is marked stopped.
A kill (SIGKILL) leaves its claims until the next start takes them back, uncharged too.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import SAWarning

from autograder.authoring import course as courses
from autograder.authoring.nbgrader_run import put_tools_on_path
from autograder.batch import assignment_db, sandbox
from autograder.batch.capacity import plan
from autograder.batch.executors import executor_for
from autograder.batch.grade import Settings as GradeSettings
from autograder.batch.grade import default_db_url, redact_url
from autograder.batch.ledger import Ledger
from autograder.batch.record import course_config
from autograder.errors import BadInput
from autograder.extras import missing
from autograder.serve import tables
from autograder.serve.accept import Acceptor
from autograder.serve.deadlines import Deadlines, sets_late_penalty
from autograder.serve.exchange import Watcher
from autograder.serve.exports import Exports
from autograder.serve.feedback import Publisher
from autograder.serve.instances import HEARTBEAT, Registry
from autograder.serve.queue import Queue, grade_again
from autograder.serve.ratelimit import Failures
from autograder.serve.settings import ServeSettings, parse_cutoff
from autograder.serve.tokens import Sessions, Tokens
from autograder.serve.worker import Worker

log = logging.getLogger(__name__)


def exchange_inbound(config) -> Path:
    """The inbound folder of the course's exchange (``Exchange.root`` of its configuration)."""
    root = config.get("Exchange", {}).get("root")
    if not root:
        raise BadInput("nbgrader_config.py: expected c.Exchange.root, got none. Set it to the "
                       "exchange the students submit to, or run with --no-exchange.")
    return Path(str(root)) / course_id(config) / "inbound"


def course_id(config) -> str:
    """The course's nbgrader id (``CourseDirectory.course_id``), what its pages call it."""
    return str(config.get("CourseDirectory", {}).get("course_id") or courses.DEFAULT_COURSE_ID)


def make_exchange(config, inbound: Path | None) -> str | None:
    """Create the exchange's folder (``Exchange.root``) and, when it is watched, its inbound
    folder, where missing: nbgrader's API checks the folder as soon as it is made (it logs
    "Unwritable directory" otherwise). Return what was done, or None."""
    root = config.get("Exchange", {}).get("root")
    wanted = [Path(str(root))] if root else []
    wanted += [inbound] if inbound is not None else []
    missing = [folder for folder in wanted if not folder.is_dir()]
    if not missing:
        return None
    try:
        for folder in missing:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("exchange %s: expected a folder this service can write, got none it can make "
                    "(%s). Create it, or set c.Exchange.root in nbgrader_config.py.", missing[0], exc)
        return None
    return f"  created the exchange folder {missing[-1]}"


class Service:
    """Everything one course's service holds."""

    def __init__(self, settings: ServeSettings) -> None:
        course = Path(settings.course).resolve()
        if not (course / "nbgrader_config.py").is_file():
            raise BadInput(f"course: expected a folder with nbgrader_config.py, got {course}. "
                           f"Run from the course folder or pass --course.")
        put_tools_on_path()
        # nbgrader's own update_or_create_submission warns about its session on every new one.
        warnings.filterwarnings("ignore", category=SAWarning)
        self.settings = settings
        self.course = course
        config = course_config(course)
        #: What the pages call the course: its nbgrader course id.
        self.course_name = course_id(config)
        #: Whether the course takes points off late submissions (what the pages say of lateness).
        self.late_penalty = sets_late_penalty(config)
        self.inbound = exchange_inbound(config) if settings.exchange else None
        self.made_exchange = make_exchange(config, self.inbound)
        self.db_url = settings.db_url or default_db_url(course, config)
        self.engine = tables.connect(self.db_url)
        self.registry = Registry(self.engine)
        self.queue = Queue(self.engine, self.registry.id)
        self.tokens = Tokens(self.engine)
        self.sessions = Sessions(self.engine, settings.session_hours)
        self.failures = Failures(10, 10)
        self.deadlines = Deadlines(self.db_url, parse_cutoff(settings.cutoff))
        self.ledger = Ledger(self.db_url)
        self.publisher = Publisher(course, self.db_url, config)
        capacity = plan(settings.budget, courses.use(course).ids, settings.workers or None)
        self.executor = executor_for(settings.scheduler,
                                     0 if settings.workers == 0 else capacity.workers)
        self.where = (f"{self.executor.description}, '{settings.budget}' budget"
                      + ("" if settings.scheduler or settings.workers == 0 else
                         f", up to {capacity.threads} TensorFlow thread(s) each, shared when "
                         f"several run ({capacity.reason})"))
        self.exports = Exports(self.queue, (settings.output or course / "grading").resolve(),
                               rule=settings.counts,
                               title=f"{self.course_name}: grading at submission time",
                               budget=settings.budget, workers=max(1, self.executor.slots()))
        grade_settings = GradeSettings(budget=settings.budget, workers=capacity.workers,
                                       scheduler=settings.scheduler, db_url=self.db_url,
                                       limits=settings.limits)
        self.worker = Worker(course_root=course, db_url=self.db_url, queue=self.queue,
                             ledger=self.ledger, publisher=self.publisher, executor=self.executor,
                             grade_settings=grade_settings, capacity=capacity,
                             counts=settings.counts, on_finished=self.exports.request,
                             assignments=lambda: list(self.deadlines.open()))
        self.acceptor = Acceptor(course_root=course, queue=self.queue, deadlines=self.deadlines,
                                 attempts_per_hour=settings.attempts_per_hour,
                                 max_upload=settings.max_upload, on_accept=self.worker.wake.set)
        self.watcher = (Watcher(self.inbound, self.queue, self.acceptor, self.publisher,
                                settings.poll_seconds) if self.inbound else None)
        self._beating = threading.Event()
        self._heart = threading.Thread(target=self._beat, name="cnnkit-heartbeat", daemon=True)

    def describe(self) -> list[str]:
        """What the service runs, for the console."""
        lines = [f"cnnkit serve: {self.course_name} ({self.course}) on {self.settings.url}",
                 f"  gradebook and queue: {redact_url(self.db_url)}",
                 f"  grading: {self.where}",
                 f"  exchange: {self.inbound if self.inbound else 'not watched (--no-exchange)'}",
                 (f"  counts: the {self.settings.counts} attempt; at most "
                  f"{self.settings.attempts_per_hour} upload(s) per student and assignment per hour"),
                 f"  grades.csv and report.html: {self.exports.output}"]
        if not self.settings.scheduler and self.settings.workers != 0:
            alarm = sandbox.warning(sandbox.probe())
            if alarm:
                lines.append(alarm)
        return lines

    def released(self) -> list[str]:
        """The assignments released in the course (``release/<a>/<a>.ipynb``): the ones open for
        submission."""
        return [a for a in courses.load(self.course).ids
                if (self.course / "release" / a / f"{a}.ipynb").is_file()]

    def start(self, echo=log.info) -> list[int]:
        """Start everything but the web server; return the submissions taken back from a service
        that died."""
        if self.made_exchange:
            echo(self.made_exchange)
        dead = self.registry.start()
        for assignment_id in self.released():
            if not assignment_db.has_assignment(self.db_url, assignment_id):
                echo(f"  defining {assignment_id} in the gradebook from source/ (once)")
                assignment_db.ensure_assignment(self.course, assignment_id, self.db_url)
        taken_back = self.queue.carry_on(dead)
        if taken_back:
            log.warning("took back %d submission(s) a stopped service had claimed: %s",
                        len(taken_back), taken_back)
        self.deadlines.open()  # read the gradebook once before the first request
        self.worker.start()
        if self.watcher:
            self.watcher.start()
        self.exports.start()
        self._heart.start()
        return taken_back

    def grade_again(self, submission_ids, by: str) -> list[int]:
        """Put failed submissions back in the queue (the instructor's "grade again"); see
        :func:`autograder.serve.queue.grade_again`."""
        again = grade_again(self.queue, self.ledger, submission_ids, by)
        if again:
            self.worker.wake.set()
        return again

    def stop(self) -> None:
        """Stop the threads; what was running goes back to the queue."""
        if self.watcher:
            self.watcher.stop()
        self.worker.stop()
        self.exports.stop()
        self._beating.set()
        self.registry.stop()
        self.ledger.close()
        self.engine.dispose()

    def _beat(self) -> None:
        while not self._beating.wait(HEARTBEAT.total_seconds()):
            try:
                self.registry.beat()
            except Exception:  # the database is away for a moment
                log.exception("heartbeat failed")


def serve(settings: ServeSettings, echo=print) -> None:
    """Run the service until Ctrl-C or SIGTERM."""
    try:
        import uvicorn
    except ImportError as error:  # the service is an extra of the kit
        raise missing("cnnkit serve", "uvicorn", "serve") from error

    from autograder.serve.web import make_app

    # The service's console is its log: one line per graded submission, at INFO.
    served = logging.getLogger("autograder.serve")
    if served.getEffectiveLevel() > logging.INFO:
        served.setLevel(logging.INFO)
    service = Service(settings)
    app = make_app(service)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                            proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies,
                            server_header=False, access_log=False)
    run(service, uvicorn.Server(config), echo)


def run(service, server, echo=print) -> None:
    """Start ``service`` (a :class:`Service`, or anything with its ``start``, ``describe`` and
    ``stop``), run the web ``server`` (a :class:`uvicorn.Server`) until SIGINT or SIGTERM, and
    stop the service: both signals, at any moment, end the same clean way."""
    with stop_signals(server):
        taken_back = service.start(echo)
        try:
            for line in service.describe():
                echo(line)
            if taken_back:
                echo(f"  carried on: {len(taken_back)} submission(s) a stopped service had "
                     f"claimed are back in the queue")
            if not server.should_exit:
                echo("Ready. Ctrl-C (or SIGTERM) stops it; what is running goes back to the "
                     "queue.")
                server.run()
        finally:
            echo("Stopping: what is running goes back to the queue.")
            service.stop()
            echo("Stopped.")


@contextlib.contextmanager
def stop_signals(server) -> Iterator[None]:
    """SIGINT and SIGTERM ask ``server`` to stop (its ``should_exit``), from the first moment of
    the block to its last, and nothing else: the block's own clean-up then runs in full.

    Without this, uvicorn answers the signal and then raises it again with the handler it found,
    Python's default: for SIGTERM, that ends the process on the spot, before the service can put
    its running jobs back; for SIGINT, a KeyboardInterrupt. With this, it finds this handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def asked(signum, _frame) -> None:
        if not server.should_exit:
            log.info("%s: stopping", signal.Signals(signum).name)
        server.should_exit = True

    previous = {sig: signal.signal(sig, asked) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
