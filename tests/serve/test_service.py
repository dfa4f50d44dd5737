"""How the service starts and stops: SIGTERM and SIGINT end it the same clean way (a real uvicorn
server in a child process), start-up makes the exchange folder nbgrader wants, and the pages take
the course's id and late-penalty setting from its nbgrader configuration."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from support.servers import free_port
from traitlets.config import Config

from autograder.serve.deadlines import sets_late_penalty
from autograder.serve.service import course_id, make_exchange

CHILD = textwrap.dedent('''
    import sys, time
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from autograder.serve.service import run

    port, marker, slow_start = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])

    class Service:
        def start(self, echo):
            print("starting", flush=True)
            time.sleep(slow_start)
            return []
        def describe(self):
            return ["a service"]
        def stop(self):
            open(marker, "w").write("stopped cleanly")

    app = Starlette(routes=[Route("/healthz", lambda request: PlainTextResponse("ok"))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    run(Service(), server, echo=lambda line: print(line, flush=True))
    print("run returned", flush=True)
''')


@pytest.mark.server
@pytest.mark.parametrize("sig, when", [(signal.SIGTERM, "serving"), (signal.SIGINT, "serving"),
                                       (signal.SIGTERM, "starting")])
def test_sigterm_and_sigint_stop_the_service_the_same_clean_way(tmp_path: Path, sig, when):
    port, marker = free_port(), tmp_path / "stopped"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(port), str(marker),
                              "3" if when == "starting" else "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        if when == "starting":
            assert child.stdout.readline().strip() == "starting"
        else:
            while True:
                assert time.monotonic() < deadline and child.poll() is None
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        child.send_signal(sig)
        output, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert marker.read_text() == "stopped cleanly", output
    assert "Stopped.\nrun returned" in output and "Traceback" not in output, output
    if when == "starting":  # the signal came before the server ran: it never serves
        assert "Ready." not in output, output


def test_start_up_makes_the_exchange_folder_nbgrader_wants(tmp_path: Path, caplog):
    from nbgrader.apps import NbGraderAPI

    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.course_id = "cnn-test"
    config.Exchange.root = str(tmp_path / ".exchange")
    inbound = tmp_path / ".exchange" / "cnn-test" / "inbound"
    assert make_exchange(config, inbound) == f"  created the exchange folder {inbound}"
    assert inbound.is_dir() and make_exchange(config, inbound) is None
    with caplog.at_level(logging.WARNING):
        NbGraderAPI(config=config)
    assert not [r for r in caplog.records if "Unwritable directory" in r.getMessage()]


def test_the_course_id_and_the_late_penalty_come_from_the_configuration():
    config = Config()
    config.CourseDirectory.course_id = "cnn-2025"
    assert course_id(config) == "cnn-2025"
    assert not sets_late_penalty(config)
    config.LateSubmissionPlugin.penalty_method = "zero"
    assert sets_late_penalty(config)
    other = Config()
    other.AssignLatePenalties.plugin_class = "course.MyPenalty"
    assert sets_late_penalty(other)


def test_start_up_says_what_it_does_before_each_slow_step(monkeypatch):
    from types import SimpleNamespace

    from autograder.serve import service as module

    said: list[str] = []
    monkeypatch.setattr(module.assignment_db, "has_assignment", lambda url, a: a == "images")
    monkeypatch.setattr(module.assignment_db, "ensure_assignment",
                        lambda course, a, url: said.append(f"(defined {a})"))
    idle = SimpleNamespace(start=lambda: None)
    stub = SimpleNamespace(
        made_exchange="  created the exchange folder /x/inbound", registry=SimpleNamespace(
            start=lambda: []), released=lambda: ["images", "pooling", "mnist_cnn"],
        db_url="sqlite://", course=Path("course"), queue=SimpleNamespace(carry_on=lambda d: []),
        deadlines=SimpleNamespace(open=dict), worker=idle, watcher=None, exports=idle, _heart=idle)
    assert module.Service.start(stub, echo=said.append) == []
    assert said == ["  created the exchange folder /x/inbound",
                    "  defining pooling in the gradebook from source/ (once)", "(defined pooling)",
                    "  defining mnist_cnn in the gradebook from source/ (once)",
                    "(defined mnist_cnn)"]
