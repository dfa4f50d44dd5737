"""The parts that keep a hostile submission in its place, without running nbgrader: limits, the
tamper scan, the repair of deleted or stripped locked cells, the sandbox's command line, and
guarded execution in a real kernel."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest

from autograder.batch import sandbox
from autograder.batch.jobs import Job
from autograder.batch.limits import LIMITS_ENV, Limits, configured
from autograder.batch.review.cells import visible
from autograder.batch.review.locked import repair
from autograder.batch.review.problems import cell_problems
from autograder.batch.review.scan import protected_names, scan_cell, scan_notebook
from autograder.judge.guarded_execute import GuardedExecute


def test_limits_parse_sizes_times_and_names() -> None:
    limits = Limits().with_changes("memory=4G, processes=128, output=10M, cell=30, notebook=2.5")
    assert limits.memory == 4 * 2**30 and limits.processes == 128 and limits.output == 10 * 2**20
    assert limits.cell_seconds == 30 and limits.notebook_seconds == 2.5
    assert "4 GiB memory" in limits.describe() and "128 processes" in limits.describe()


@pytest.mark.parametrize("text, message", [
    ("memroy=4G", "limit: expected one of"),
    ("memory=lots", "limit memory: expected a number (sizes may end in K, M or G), got 'lots'"),
    ("processes=0", "limit processes: expected more than 0, got '0'"),
])
def test_bad_limits_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Limits().with_changes(text)


def test_limits_from_the_environment_then_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMITS_ENV, "memory=2G,cell=10")
    limits = configured("cell=20")
    assert limits.memory == 2 * 2**30 and limits.cell_seconds == 20
    assert limits.processes == Limits().processes


PROTECTED = protected_names(["from autograder import checks\nimport numpy as np"])


@pytest.mark.parametrize("source, reason", [
    ("get_ipython().input_transformers_cleanup.append(lambda l: ['pass\\n'])",
     "uses the IPython shell that runs the tests: get_ipython().input_transformers_cleanup.append"),
    ("ip = get_ipython()", "uses the IPython shell that runs the tests: get_ipython()"),
    ("!curl http://example.com", "a shell command (!)"),
    ("%load_ext autoreload", "%load_ext"),
    ("import sys\nsys.modules['numpy'] = None", "changes sys.modules"),
    ("np.testing.assert_allclose = print", "replaces np.testing.assert_allclose"),
    ("import keras\nkeras.Model.evaluate = None", "replaces keras.Model.evaluate"),
    ("checks.shape = print", "replaces checks.shape"),
    ("checks = None", "rebinds 'checks', a name the tests use"),
    ("import os as np", "rebinds 'np', a name the tests use, to os"),
    ("class A:\n    def __eq__(self, o):\n        return True", "defines __eq__"),
    ("import os\nos._exit(1)", "calls os._exit()"),
    ("import sys\nsys.exit()", "calls sys.exit()"),
    ("exec('1')", "calls exec()"),
    ("f = getattr(np, 'te' + 'sting')", "reads an attribute by a computed name"),
    ("open('/etc/passwd').read()", "opens a file outside its own folder"),
    ("open('../x').read()", "opens a file outside its own folder"),
    ("import socket", "imports socket"),
    ("import ctypes", "imports ctypes"),
    ("__builtins__.print = None", "__builtins__"),
    ("from autograder import checks as c", "imports from the kit's package"),
])
def test_tamper_scan_reports_what_could_change_a_grade(source: str, reason: str) -> None:
    found = scan_cell(source, PROTECTED)
    assert any(reason in r for _, r in found), found


@pytest.mark.parametrize("source", [
    "import numpy as np\nchina = np.zeros((2, 2)) / 255",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.imshow([[1]])",
    "class ResidualUnit:\n    def __init__(self, filters):\n        self.filters = filters",
    "model.fit(X, y, epochs=1)\nopen('weights.txt', 'w').write('x')",
    "x = getattr(layer, 'filters')",
    "this is not python (",
])
def test_tamper_scan_leaves_ordinary_code_alone(source: str) -> None:
    assert scan_cell(source, PROTECTED) == []


def _nb(*cells: tuple[str, str | None]) -> dict:
    nb = nbformat.v4.new_notebook()
    for source, grade_id in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": grade_id.startswith("test"),
                                         "grade": grade_id.startswith("test"), "solution": False}
        nb.cells.append(cell)
    return json.loads(nbformat.writes(nb))


LAYOUT = ({"name": "setup", "cell_type": "code", "locked": True, "grade": False, "points": 0, "solution": False},
          {"name": "answer", "cell_type": "code", "locked": False, "grade": False, "points": 0, "solution": True},
          {"name": "test_a", "cell_type": "code", "locked": True, "grade": True, "points": 2, "solution": False},
          {"name": "test_b", "cell_type": "code", "locked": True, "grade": True, "points": 1, "solution": False})
LOCKED = {"setup": "import numpy as np", "test_a": "assert x == 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS",
          "test_b": "assert x > 0"}


def _job() -> Job:
    return Job("s", "a", {}, b"", "", locked=LOCKED, layout=LAYOUT)


def test_scan_skips_the_assignments_own_cells_even_without_metadata() -> None:
    nb = _nb(("import numpy as np", "setup"), ("x = 1\nimport socket", "answer"),
             ("assert x == 1", None), ("exec('x')", None))
    reports = scan_notebook(nb, LOCKED)
    assert reports == ["cell 2 (answer), line 2: imports socket, which opens network connections",
                       "cell 4, line 1: calls exec(), which runs code built at run time"]


def test_visible_drops_hidden_tests_and_blank_lines() -> None:
    assert visible(LOCKED["test_a"]) == "assert x == 1"
    assert visible("a  \n\n b\n") == "a\n b"


def test_repair_puts_back_deleted_and_stripped_locked_cells_in_order() -> None:
    nb = _nb(("import numpy as np", None), ("x = 1", "answer"), ("assert x > 0", "test_b"))
    assert repair(nb, _job())
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert ids == ["setup", "answer", "test_a", "test_b"]
    assert nb["cells"][2]["metadata"]["nbgrader"]["points"] == 2
    assert not repair(nb, _job())


def test_sandbox_command_shows_only_what_a_kernel_needs(tmp_path) -> None:
    settings = {"bwrap": "/usr/bin/bwrap", "pids_group": None, "work": str(tmp_path / "work"),
                "runtime": str(tmp_path / "runtime"), "read": ["/opt/python", "/srv/kit"],
                "python": sys.executable, "memory": 2**30, "file_size": 2**20, "disk": 2**24}
    argv = sandbox.bwrap_argv(settings, str(tmp_path / "runtime" / "kernel.json"))
    text = " ".join(argv)
    for flag in ("--unshare-all", "--clearenv", "--die-with-parent", "--new-session", "--unshare-user"):
        assert flag in argv
    assert "--share-net" not in argv
    assert "--ro-bind /srv/kit /srv/kit" in text and f"--bind {tmp_path / 'runtime'}" in text
    assert argv.index("/tmp") < argv.index("/opt/python"), "binds under /tmp must come after its tmpfs"
    assert "--size 16777216 --tmpfs " + str(tmp_path / "work") in text
    assert argv[-4:] == ["-m", "ipykernel_launcher", "-f", str(tmp_path / "runtime" / "kernel.json")]
    passed = [argv[i + 1] for i, a in enumerate(argv) if a == "--setenv"]
    assert "PGPASSWORD" not in passed and "HOME" in passed


def test_missing_isolation_is_said_loudly_with_the_fix() -> None:
    message = sandbox.warning(sandbox.Isolation(None, None, "bubblewrap (bwrap) is not installed"))
    assert message.startswith("WARNING: submissions are NOT isolated: bubblewrap (bwrap) is not installed")
    assert "apt-get install bubblewrap" in message and "source/" in message
    assert sandbox.warning(sandbox.Isolation("/usr/bin/bwrap", "/sys/fs/cgroup/pids")) == ""


def test_guarded_execute_cuts_output_and_survives_a_dead_kernel(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "x = 1", "for _ in range(40):\n    print('y' * 100000, flush=True)", "import os\nos._exit(0)",
        "print(x)")]
    progress = tmp_path / "progress.json"
    runner = GuardedExecute(output_limit=1_000_000, timeout=60, progress_file=str(progress))
    nb, _ = runner.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert [o.ename for o in nb.cells[1].outputs if o.output_type == "error"] == ["OutputLimit"]
    assert sum(len(o.get("text", "")) for o in nb.cells[1].outputs) <= 1_000_000
    assert nb.cells[2].outputs[-1].ename == "KernelDied"
    assert nb.cells[3].outputs[0].evalue == "not run: the kernel died in cell 3."
    assert json.loads(progress.read_text())["cell"] == 2
    problems = cell_problems(nb)
    assert problems == ["cell 2 printed past the output limit; the rest was dropped.",
                        "cell 3 killed the kernel (it exited, was killed, or ran out of memory).",
                        "cell 4 and the cells after it did not run (the kernel had died or could "
                        "not be stopped)."]


def test_no_honest_sample_submission_is_flagged(repo) -> None:
    from autograder.authoring.course import ASSIGNMENT_IDS
    from autograder.authoring.samples import sample_class

    for assignment_id in ASSIGNMENT_IDS:
        source = nbformat.read(repo / "source" / assignment_id / f"{assignment_id}.ipynb", 4)
        locked = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("locked")}
        for item in sample_class.submissions(repo, [assignment_id]):
            assert scan_notebook(json.loads(nbformat.writes(item.notebook)), locked) == [], \
                f"{item.student}/{assignment_id}"
