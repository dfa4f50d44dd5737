"""The sandbox around a real kernel, started through the job's kernelspec as nbclient starts it:
who the kernel is, what it can read, where it can write and how much, what it leaves on the
grader's side, and the memory of the whole job. Each kernel starts in seconds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

import autograder
from autograder.batch import sandbox
from autograder.batch.limits import Limits

pytestmark = pytest.mark.sandbox

MIB = 2**20

#: Small limits: the writes below reach the disk limit quickly.
LIMITS = Limits(memory=2 * 2**30, file_size=2**30, disk=64 * MIB, processes=256)

#: The instructor package's modules a test kernel imports (the whole student kit is built elsewhere).
KIT_MODULES = ("__init__.py", "_quiet.py")


def make_kit(folder: Path) -> tuple[Path, Path]:
    """A small student kit and data folder, readable by the kernel's user."""
    package = folder / "kit" / "autograder"
    package.mkdir(parents=True)
    source = Path(autograder.__file__).parent
    for name in KIT_MODULES:
        shutil.copy(source / name, package / name)
    data = folder / "data"
    data.mkdir()
    (data / "SHA256SUMS").write_text("")
    (data / "marker.txt").write_text("the data the kernel may see\n")
    for path in [folder / "kit", *(folder / "kit").rglob("*"), data, *data.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder / "kit", data


def _isolation() -> sandbox.Isolation:
    isolation = sandbox.probe()
    if not isolation.available:
        pytest.fail(sandbox.warning(isolation), pytrace=False)
    return isolation


class Sandboxed:
    """A kernel started through the sandbox's kernelspec (transport ``ipc``, as the runner's
    private configuration sets it), and the job's folders on the grader's side."""

    def __init__(self, folder: Path, limits: Limits = LIMITS) -> None:
        isolation = _isolation()
        self.folder, self.runtime = folder, folder / "runtime"
        for name in ("runtime", "jupyter", "work"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        kit, data = make_kit(folder / "given")
        self.groups = sandbox.make_groups(isolation, f"cnnkit-test-{folder.name}", limits)
        settings = sandbox.settings_for(limits, self.runtime, isolation, self.groups, kit_dir=kit,
                                        data_dir=data)
        sandbox.write_kernelspec(folder / "jupyter", settings)
        self.manager = KernelManager(
            kernel_name="python3", transport="ipc", ip=sandbox.kernel_ip(self.runtime),
            connection_file=str(self.runtime / "kernel.json"),
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder / "jupyter" / "kernels")]))
        self.manager.start_kernel(cwd=str(folder / "work"))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> str:
        """What ``code`` printed; its traceback fails the test."""
        printed: list[str] = []

        def keep(message: dict) -> None:
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                printed.append("\n".join(message["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=keep)
        assert reply["content"]["status"] == "ok", "".join(printed)
        return "".join(printed)

    def kernel_process(self) -> psutil.Process:
        """The kernel's process, seen from the grader's side."""
        launcher = psutil.Process(self.manager.provisioner.process.pid)
        return next(p for p in launcher.children(recursive=True)
                    if "ipykernel_launcher" in p.cmdline() and "bwrap" not in p.cmdline()[0])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        sandbox.remove_groups(self.groups)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory):
    """One sandboxed kernel for the module's checks."""
    os.environ["CNNKIT_TEST_SECRET"] = "a grader's token"
    started = Sandboxed(tmp_path_factory.mktemp("job"))
    yield started
    started.close()
    del os.environ["CNNKIT_TEST_SECRET"]


def test_the_kernel_is_never_root_outside(kernel: Sandboxed) -> None:
    process = kernel.kernel_process()
    assert 0 not in process.uids() and 0 not in process.gids(), process.uids()
    status = Path(f"/proc/{process.pid}/status").read_text()
    if os.geteuid() == 0:
        assert set(process.uids()) == {sandbox.KERNEL_UID}
        assert set(process.gids()) == {sandbox.KERNEL_GID} and re.search(r"^Groups:\s*$", status, re.M)
    assert "CapEff:\t0000000000000000" in status and "CapBnd:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status
    out = kernel.run("try:\n    open('/etc/shadow').read()\n    print('read')\n"
                     "except OSError as e:\n    print(type(e).__name__)")
    assert out.strip() == "PermissionError"


def test_writable_space_adds_up_to_the_disk_limit(kernel: Sandboxed) -> None:
    code = """
import errno, json, os
written, failed = {}, {}
chunk = b"x" * 2**20
for place in ("/dev/shm/fill", "/tmp/work/fill", "/tmp/fill"):
    written[place] = 0
    try:
        with open(place, "wb") as f:
            while written[place] < 3 * 2**30:
                f.write(chunk); f.flush()
                written[place] += len(chunk)
    except OSError as e:
        failed[place] = errno.errorcode[e.errno]
for place in ("/dev/new", "/new", "/usr/new", "/opt/cnnkit/kit/new", "/opt/cnnkit/data/new",
              "/proc/new"):
    try:
        open(place, "wb").close()
        failed[place] = "written"
    except OSError as e:
        failed[place] = errno.errorcode[e.errno]
for place in ("/dev/shm/fill", "/tmp/work/fill", "/tmp/fill"):
    os.remove(place)
print(json.dumps({"written": written, "failed": failed}))
"""
    result = json.loads(kernel.run(code))
    written, failed = result["written"], result["failed"]
    tmp_size, shm_size = sandbox.split_disk(LIMITS.disk)
    assert {failed[p] for p in written} == {"ENOSPC"}, failed
    assert written["/dev/shm/fill"] <= shm_size and written["/tmp/work/fill"] <= tmp_size
    assert sum(written.values()) <= LIMITS.disk
    assert sum(written.values()) >= LIMITS.disk - 4 * MIB, "the limit, not something else, stopped it"
    for place in ("/dev/new", "/new", "/usr/new", "/opt/cnnkit/kit/new", "/opt/cnnkit/data/new",
                  "/proc/new"):
        assert failed[place] in {"EROFS", "EACCES", "ENOENT"}, (place, failed[place])


def test_only_the_student_kit_and_the_given_data_are_seen(kernel: Sandboxed, repo: Path) -> None:
    code = f"""
import importlib, json, os
import autograder
try:
    importlib.import_module("autograder.judge")
    judge = "imported"
except ImportError as e:
    judge = type(e).__name__
print(json.dumps({{"file": autograder.__file__, "judge": judge,
                  "marker": os.path.exists(os.environ["CNNKIT_DATA_DIR"] + "/marker.txt"),
                  "repo": sorted(os.listdir({str(repo)!r})) if os.path.isdir({str(repo)!r}) else None,
                  "package": os.path.exists({str(Path(autograder.__file__).parent)!r}),
                  "env": dict(os.environ), "cwd": os.getcwd()}}))
"""
    seen = json.loads(kernel.run(code))
    assert seen["file"] == f"{sandbox.KIT}/autograder/__init__.py"
    assert seen["judge"] == "ModuleNotFoundError"
    assert seen["marker"]
    assert seen["repo"] in (None, [], [".venv"]), "the repository is visible in the sandbox"
    assert not seen["package"], "the instructor package is visible in the sandbox"
    assert seen["env"]["PYTHONPATH"] == sandbox.KIT and seen["env"]["CNNKIT_DATA_DIR"] == sandbox.DATA
    assert "CNNKIT_TEST_SECRET" not in seen["env"] and seen["cwd"] == sandbox.WORK


def test_the_sockets_live_in_the_sandbox_not_on_the_graders_disk(kernel: Sandboxed) -> None:
    kernel.run("open('/tmp/.rt/dropped', 'w').write('x')")
    assert sorted(os.listdir(kernel.runtime)) == ["k", "kernel.json"]
    link = kernel.runtime / sandbox.LINK
    assert link.is_symlink() and os.readlink(link).startswith("/proc/")
    assert (link / "dropped").is_file() and (link / "kernel-1").is_socket()


def test_a_notebook_runs_through_the_sandbox_kernelspec(tmp_path: Path) -> None:
    isolation = _isolation()
    kit, data = make_kit(tmp_path / "given")
    runtime, jupyter = tmp_path / "runtime", tmp_path / "jupyter"
    runtime.mkdir()
    groups = sandbox.make_groups(isolation, f"cnnkit-test-{tmp_path.name}", LIMITS)
    sandbox.write_kernelspec(jupyter, sandbox.settings_for(LIMITS, runtime, isolation, groups,
                                                           kit_dir=kit, data_dir=data))
    manager = KernelManager(
        kernel_name="python3", transport="ipc", ip=sandbox.kernel_ip(runtime),
        connection_file=str(runtime / "kernel.json"),
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(jupyter / "kernels")]))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 6 * 7"),
                nbformat.v4.new_code_cell("open('/tmp/.rt/left', 'w').write('x')\nprint(x)")]
    try:
        NotebookClient(nb, km=manager, timeout=60, startup_timeout=60,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        sandbox.remove_groups(groups)
    assert nb.cells[1].outputs[0].text == "42\n"
    assert set(os.listdir(runtime)) <= {"kernel.json", sandbox.LINK}, os.listdir(runtime)


def _oom_kills(group: Path) -> int:
    for name in ("memory.oom_control", "memory.events"):
        if (group / name).exists():
            for line in (group / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    return 0


def test_the_memory_group_holds_the_whole_job(tmp_path: Path) -> None:
    if sandbox.probe().memory_root is None:
        pytest.skip(sandbox.warning(sandbox.probe()))
    limits = Limits(memory=2**30, file_size=2**30, disk=64 * MIB, processes=256)
    kernel = Sandboxed(tmp_path, limits)
    try:
        group = Path(next(g for g in kernel.groups if g.startswith(sandbox.probe().memory_root)))
        # Shared memory is not in RLIMIT_DATA: only the job's memory group can stop this.
        kernel.client.execute("import mmap\nm = mmap.mmap(-1, 3 * 2**30)\nchunk = b'x' * 2**24\n"
                              "for _ in range(3 * 2**30 // len(chunk)):\n    m.write(chunk)\n"
                              "print('allocated')")
        deadline = time.monotonic() + 60
        while kernel.manager.is_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not kernel.manager.is_alive(), "a 3 GiB allocation went through under a 1 GiB limit"
        assert _oom_kills(group) >= 1
        peak = group / "memory.max_usage_in_bytes"
        if peak.exists():
            assert int(peak.read_text()) <= limits.memory
    finally:
        kernel.close()


#: A client that starts a sandboxed kernel and exits without stopping it.
CARELESS_CLIENT = """
import subprocess, sys
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
jupyter, ip, connection = sys.argv[1:]
manager = KernelManager(kernel_name="python3", transport="ipc", ip=ip, connection_file=connection,
                        kernel_spec_manager=KernelSpecManager(kernel_dirs=[jupyter + "/kernels"]))
manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
client = manager.blocking_client()
client.start_channels()
client.wait_for_ready(timeout=60)
print(manager.provisioner.process.pid, flush=True)
"""


def test_a_kernel_whose_client_went_away_is_stopped(tmp_path: Path) -> None:
    isolation = _isolation()
    kit, data = make_kit(tmp_path / "given")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    sandbox.write_kernelspec(tmp_path / "jupyter", sandbox.settings_for(
        LIMITS, runtime, isolation, (), kit_dir=kit, data_dir=data))
    client = subprocess.run([sys.executable, "-c", CARELESS_CLIENT, str(tmp_path / "jupyter"),
                             sandbox.kernel_ip(runtime), str(runtime / "kernel.json")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert client.returncode == 0, client.stderr

    def left() -> list[list[str]]:
        # The launcher and bubblewrap name the job's folders; the kernel dies with bubblewrap.
        return [p.info["cmdline"] for p in psutil.process_iter(["cmdline", "status"])
                if p.info["status"] != psutil.STATUS_ZOMBIE
                and any(str(tmp_path) in arg for arg in p.info["cmdline"] or ())]

    deadline = time.monotonic() + 10
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left(), f"left running: {[cmdline[:4] for cmdline in left()]}"
