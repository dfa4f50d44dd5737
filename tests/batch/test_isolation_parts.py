"""The parts that keep a hostile submission in its place, without running nbgrader: limits, the
sandbox's command line, and guarded execution in a real kernel (the locked cells a student deleted
or stripped are put back by ``SettleMetadata``: ``tests/judge/test_gradebook_cells.py``)."""

from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest

from autograder import settings
from autograder.batch import sandbox
from autograder.batch.limits import Limits, configured
from autograder.batch.review.cells import visible
from autograder.batch.review.problems import cell_problems
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
    monkeypatch.setenv(settings.LIMITS.name, "memory=2G,cell=10")
    limits = configured("cell=20")
    assert limits.memory == 2 * 2**30 and limits.cell_seconds == 20
    assert limits.processes == Limits().processes


LOCKED = {"setup": "import numpy as np",
          "test_a": "assert x == 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS",
          "test_b": "assert x > 0"}


def test_visible_drops_hidden_tests_and_blank_lines() -> None:
    assert visible(LOCKED["test_a"]) == "assert x == 1"
    assert visible("a  \n\n b\n") == "a\n b"


def _settings(tmp_path) -> dict:
    return {"bwrap": "/usr/bin/bwrap", "setpriv": "/usr/bin/setpriv", "groups": [],
            "runtime": str(tmp_path / "runtime"), "read": ["/root/.pyenv/versions/3.11.7", "/srv/venv"],
            "kit": str(tmp_path / "kit"), "data": str(tmp_path / "data"),
            "mask": ["/srv/venv/lib/site-packages/autograder"], "python": sys.executable,
            "uid": 65534, "gid": 65534, "memory": 2**30, "file_size": 2**20, "disk": 2**27}


@pytest.mark.parametrize("privileged", [True, False], ids=["root grader", "other grader"])
def test_sandbox_command_shows_only_what_a_kernel_needs(tmp_path, privileged: bool) -> None:
    argv = sandbox.bwrap_argv(_settings(tmp_path), 5, 6, privileged=privileged)
    text = " ".join(argv)
    for flag in ("--clearenv", "--die-with-parent", "--new-session"):
        assert flag in argv
    assert "--share-net" not in argv and "--bind" not in argv, "nothing of the host is writable"
    if privileged:
        # No user namespace: one made by root maps the kernel to root outside.
        assert "--unshare-user" not in text and "--unshare-all" not in argv
        for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"):
            assert flag in argv
        assert "--cap-add CAP_SETUID --cap-add CAP_SETGID" in text
        switch = argv[argv.index("--") + 1:argv.index("-m")]
        assert switch == ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", sys.executable]
    else:
        assert f"--unshare-all --unshare-user --uid {os.getuid()} --gid {os.getgid()}" in text
        assert "--cap-add" not in argv and "/usr/bin/setpriv" not in argv
    # Writable: /tmp and /dev/shm only, their sizes adding up to the disk limit.
    assert "--perms 1777 --size 16777216 --tmpfs /dev/shm --remount-ro /dev" in text
    assert "--perms 1777 --size 117440512 --tmpfs /tmp" in text
    assert argv.count("--tmpfs") == 3 and text.endswith(
        "-m ipykernel_launcher -f /tmp/.rt/kernel.json")
    assert "--perms 0444 --file 5 /tmp/.rt/kernel.json" in text and "--info-fd 6" in text
    # Parents of a bind, 0755 (bubblewrap's own would be 0700), then the bind; the kit and data.
    assert ("--perms 0755 --dir /root --perms 0755 --dir /root/.pyenv --perms 0755 --dir "
            "/root/.pyenv/versions --ro-bind /root/.pyenv/versions/3.11.7 /root/.pyenv/versions/3.11.7"
            in text)
    assert f"--ro-bind {tmp_path / 'kit'} /opt/cnnkit/kit" in text
    assert f"--ro-bind {tmp_path / 'data'} /opt/cnnkit/data" in text
    mask = "/srv/venv/lib/site-packages/autograder"
    assert f"--tmpfs {mask} --remount-ro {mask}" in text
    assert argv.index("/tmp") < argv.index("/srv/venv"), "binds under /tmp must come after its tmpfs"
    assert argv.index("/srv/venv") < argv.index(mask) < argv.index("--remount-ro", argv.index(mask) + 1)
    assert "--remount-ro / --chdir /tmp/work" in text
    env = dict(zip(argv[argv.index("--setenv") + 1::3], argv[argv.index("--setenv") + 2::3]))
    assert env["PYTHONPATH"] == "/opt/cnnkit/kit" and env["CNNKIT_DATA_DIR"] == "/opt/cnnkit/data"
    assert env["HOME"] == "/tmp/home" and "PGPASSWORD" not in env


def test_missing_isolation_is_said_loudly_with_the_fix() -> None:
    message = sandbox.warning(sandbox.Isolation(None, problem="bubblewrap (bwrap) is not installed"))
    assert message.startswith("WARNING: submissions are NOT isolated: bubblewrap (bwrap) is not installed")
    assert "apt-get install bubblewrap" in message and "source/" in message
    complete = sandbox.Isolation("/usr/bin/bwrap", "/sys/fs/cgroup/pids",
                                 memory_root="/sys/fs/cgroup/memory")
    assert sandbox.warning(complete) == ""


def test_a_missing_control_group_is_said_with_what_it_leaves_open() -> None:
    message = sandbox.warning(sandbox.Isolation("/usr/bin/bwrap", "/sys/fs/cgroup/pids"))
    assert message.startswith("WARNING: no memory limit per job") and "RLIMIT_DATA" in message
    message = sandbox.warning(sandbox.Isolation("/usr/bin/bwrap", None,
                                                memory_root="/sys/fs/cgroup/memory"))
    assert message.startswith("WARNING: no process limit") and "fork bomb" in message


def test_a_kit_the_kernel_cannot_read_is_refused_with_the_fix(tmp_path) -> None:
    (tmp_path / "kit" / "autograder").mkdir(parents=True)
    (tmp_path / "kit" / "autograder" / "__init__.py").write_text("")
    with pytest.raises(ValueError, match="kit_dir: expected a folder holding the student package"):
        sandbox.settings_for(Limits(), tmp_path, sandbox.Isolation(None), (), kit_dir=tmp_path,
                             data_dir=tmp_path)
    if os.geteuid() == 0:
        (tmp_path / "kit").chmod(0o700)
        with pytest.raises(ValueError, match=r"kit_dir: expected files every user can read .* "
                                             r"got mode 0700 on .* Run `chmod -R a\+rX"):
            sandbox.settings_for(Limits(), tmp_path, sandbox.Isolation("/usr/bin/bwrap"), (),
                                 kit_dir=tmp_path / "kit", data_dir=tmp_path)


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
