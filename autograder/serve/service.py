"""``cnnkit serve`` put together: the queue, the worker loop, the exchange watcher, the exports
and the web app, in one process for one course.

Starting, in this order: the database (the service's tables beside the gradebook), the check that
no other service of this database is alive, the definitions of the released assignments in the
gradebook (from ``source/``, once, as ``cnnkit grade`` does), taking over what a dead one had
claimed, then the threads (worker loop, exchange watcher, exports, heartbeat), then the web server. Stopping
(Ctrl-C, SIGTERM) runs the other way round, and puts what was running back in the queue; a kill
(SIGKILL) leaves it claimed until the next start takes it back.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from autograder.authoring.course import ASSIGNMENT_IDS, COURSE_ID
from autograder.authoring.nbgrader_run import put_tools_on_path
from autograder.batch import assignment_db, sandbox
from autograder.batch.capacity import plan
from autograder.batch.grade import Settings as GradeSettings
from autograder.batch.grade import default_db_url, redact_url
from autograder.batch.ledger import Ledger
from autograder.batch.record import course_config
from autograder.errors import BadInput
from autograder.serve import tables
from autograder.serve.accept import Acceptor
from autograder.serve.deadlines import Deadlines
from autograder.serve.exchange import Watcher
from autograder.serve.exports import Exports
from autograder.serve.feedback import Publisher
from autograder.serve.instances import HEARTBEAT, Registry
from autograder.serve.queue import Queue
from autograder.serve.ratelimit import Buckets
from autograder.serve.settings import ServeSettings, parse_cutoff
from autograder.serve.tokens import Sessions, Tokens
from autograder.serve.worker import DaskExecutor, IdleExecutor, LocalExecutor, Worker

log = logging.getLogger(__name__)


def exchange_inbound(config) -> Path:
    """The inbound folder of the course's exchange (``Exchange.root`` of its configuration)."""
    root = config.get("Exchange", {}).get("root")
    if not root:
        raise BadInput("nbgrader_config.py: expected c.Exchange.root, got none. Set it to the "
                       "exchange the students submit to, or run with --no-exchange.")
    return Path(str(root)) / COURSE_ID / "inbound"


class Service:
    """Everything one course's service holds."""

    def __init__(self, settings: ServeSettings) -> None:
        course = Path(settings.course).resolve()
        if not (course / "nbgrader_config.py").is_file():
            raise BadInput(f"course: expected a folder with nbgrader_config.py, got {course}. "
                           f"Run from the course folder or give it as the first argument.")
        put_tools_on_path()
        # nbgrader's own update_or_create_submission warns about its session on every new one.
        warnings.filterwarnings("ignore", category=SAWarning)
        self.settings = settings
        self.course = course
        self.course_name = course.name
        config = course_config(course)
        self.db_url = settings.db_url or default_db_url(course, config)
        self.engine = tables.connect(self.db_url)
        self.registry = Registry(self.engine)
        self.queue = Queue(self.engine, self.registry.id)
        self.tokens = Tokens(self.engine)
        self.sessions = Sessions(self.engine, settings.session_hours)
        self.signin_failures = Buckets(10, 10 / 60)
        self.deadlines = Deadlines(self.db_url, parse_cutoff(settings.cutoff))
        self.ledger = Ledger(self.db_url)
        self.publisher = Publisher(course, self.db_url, config)
        capacity = plan(settings.budget, ASSIGNMENT_IDS, settings.workers or None)
        if settings.workers == 0:
            self.executor = IdleExecutor()
        elif settings.scheduler:
            self.executor = DaskExecutor(settings.scheduler)
        else:
            self.executor = LocalExecutor(capacity.workers)
        self.where = (f"{self.executor.description}, '{settings.budget}' budget"
                      + ("" if settings.scheduler or settings.workers == 0 else
                         f", {capacity.threads} TensorFlow thread(s) each ({capacity.reason})"))
        self.exports = Exports(self.queue, (settings.output or course / "grading").resolve(),
                               rule=settings.counts, title=f"{course.name}: grading at submission time",
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
        self.inbound = exchange_inbound(config) if settings.exchange else None
        self.watcher = (Watcher(self.inbound, self.queue, self.acceptor, self.publisher,
                                settings.poll_seconds) if self.inbound else None)
        self._beating = threading.Event()
        self._heart = threading.Thread(target=self._beat, name="cnnkit-heartbeat", daemon=True)

    def describe(self) -> list[str]:
        """What the service runs, for the console."""
        lines = [f"cnnkit serve: {self.course} on {self.settings.url}",
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
        return [a for a in ASSIGNMENT_IDS
                if (self.course / "release" / a / f"{a}.ipynb").is_file()]

    def start(self, echo=log.info) -> list[int]:
        """Start everything but the web server; return the submissions taken back from a service
        that died."""
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
    import uvicorn

    from autograder.serve.web import make_app

    service = Service(settings)
    app = make_app(service)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                            proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies,
                            server_header=False, access_log=False)
    server = uvicorn.Server(config)
    taken_back = service.start(echo)
    try:
        for line in service.describe():
            echo(line)
        if taken_back:
            echo(f"  carried on: {len(taken_back)} submission(s) a stopped service had claimed "
                 f"are back in the queue")
        echo("Ready. Ctrl-C stops it; what is running goes back to the queue.")
        server.run()
    finally:
        service.stop()
